from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tsur.appeals import route_confidence, routing_measure
from tsur.appeals.models import RoutingCalibration
from tsur.nlp.dataset import DatasetError, read_table


class Command(BaseCommand):
    help = (
        "Measure the routing rules on the register's history (the share of the appeals each rule would route "
        "that its organisation took up) and, with --calibrate, fit how far intake may trust its own routing on "
        "held-out appeals of an export."
    )

    def add_arguments(self, parser):
        parser.add_argument("--calibrate", type=Path, help="an export (CSV) with the held-out appeals")
        parser.add_argument(
            "--split", default="dev", help="rows of this split only (default dev; never test)"
        )
        parser.add_argument("--split-col", default="split")
        parser.add_argument(
            "--register-days",
            type=int,
            default=0,
            help="calibrate on the register's own appeals of its last N days too (those an organisation "
            "took up), read against the history before them",
        )
        parser.add_argument(
            "--cross-fit",
            type=int,
            default=0,
            metavar="K",
            help="calibrate on the export's training rows too, each read by one of K text models trained "
            "without it (K trainings of the text model; intake keeps its single model)",
        )
        parser.add_argument("--train-split", default="train", help="the training rows for --cross-fit")
        parser.add_argument("--if-missing", action="store_true", help="do nothing when a calibration exists")
        defaults = routing_measure.Columns()
        for name in ("text", "address", "latitude", "longitude", "place_kind", "executor", "id"):
            parser.add_argument(
                f"--{name.replace('_', '-')}-col", dest=f"{name}_col", default=getattr(defaults, name)
            )

    def handle(
        self,
        *args,
        calibrate: Path | None,
        split: str,
        split_col: str,
        if_missing: bool,
        register_days: int,
        cross_fit: int,
        train_split: str,
        **options,
    ):
        latest = RoutingCalibration.objects.order_by("-pk").first()
        if if_missing and latest is not None and route_confidence.fits_this_code(latest.data):
            self.stdout.write("Маршрутизация уже откалибрована.")
            return
        measured = routing_measure.measure_rules()
        shown = sorted(measured.rules.items(), key=lambda item: -item[1][1])
        routed = sum(n for _, n in measured.rules.values())
        good = sum(
            1 for hits, n in measured.rules.values() if n >= route_confidence.MIN_SUPPORT and hits / n >= 0.95
        )
        self.stdout.write(
            f"История: {measured.appeals} обращений; правила применились к {routed}, "
            f"правил с измеренной точностью {len(shown)} (не ниже 95 %: {good}); "
            f"администрация территории без правила: {measured.administration[0]} из {measured.administration[1]}"
        )
        if calibrate is None and not register_days:
            return
        columns = routing_measure.Columns(
            **{
                name: options[f"{name}_col"]
                for name in ("text", "address", "latitude", "longitude", "place_kind", "executor", "id")
            }
        )
        rows, source, crossed = [], "", None
        if calibrate is not None and not calibrate.exists():
            self.stdout.write(
                self.style.WARNING(
                    f"Файл для калибровки не найден: {calibrate}. Без калибровки каждый источник считается "
                    "со своей измеренной точностью."
                )
            )
            if not register_days:
                return
        elif calibrate is not None:
            try:
                table = read_table(calibrate)
            except DatasetError as error:
                raise CommandError(str(error)) from error
            table.require(columns.text, columns.executor)
            rows = [r for r in table.rows if split_col not in r or r[split_col] == split]
            source = f"{calibrate.name}: {split}"
            if cross_fit:
                crossed = self._cross_fit(table, columns, split_col, train_split, cross_fit)
        self.stdout.write(
            f"Калибровка на {len(rows)} обращениях выгрузки"
            + (f" и на обращениях реестра за {register_days} дн." if register_days else "")
            + " ..."
        )
        calibration, figures = routing_measure.calibrate(
            rows, columns, measured, source, register_days=register_days, cross_fit=crossed
        )
        if register_days:
            self.stdout.write(
                f"Обращений реестра за {register_days} дн., поданных после обучения модели текста: "
                f"{figures['register']} (более ранние модель могла видеть при обучении, они не берутся)"
            )
        if "cross_fit" in figures:
            self._say_cross_fit(figures, split)
        said = f"Калибровка №{calibration.pk}: обращений, прочитанных моделью текста, {figures['appeals']}, "
        if figures["routed"]:
            share, precision = (
                figures["routed"] / max(figures["appeals"], 1),
                figures["right"] / figures["routed"],
            )
            said += f"маршрутизировано бы без оператора {share:.1%} с точностью {precision:.1%}"
        else:  # too few appeals to prove the promise: every appeal goes through moderation
            best = max(calibration.data.get("precision_above", {}).get("y") or [0.0])
            said += (
                f"без оператора не маршрутизировалось бы ни одно: лучшая доказанная точность {best:.2%} ниже "
                f"требуемой {route_confidence.required_precision():.0%} (больше обращений для калибровки: "
                "--cross-fit K или --register-days N); всё идёт через модерацию"
            )
        self.stdout.write(said + " (на тех же обращениях; проверка — на отложенных: bench/routing.py)")

    def _cross_fit(self, table, columns, split_col, train_split, folds) -> routing_measure.CrossFit:
        if folds < 2:
            raise CommandError("--cross-fit: частей должно быть не меньше двух")
        if split_col not in table.columns:
            raise CommandError(
                f"--cross-fit: нужна колонка выборки «{split_col}» (обучающие строки отдельно)"
            )
        table.require(columns.id)
        train = [r for r in table.rows if r[split_col] == train_split]
        self.stdout.write(
            f"Перекрёстная калибровка: {len(train)} обучающих строк, {folds} моделей текста, каждая без своей "
            "части (по времени — как обучение модели реестра на каждую) ..."
        )
        return routing_measure.CrossFit(train, folds, say=self.stdout.write)

    def _say_cross_fit(self, figures: dict, split: str) -> None:
        crossed = figures["cross_fit"]
        self.stdout.write(
            f"Перекрёстно: {crossed['models']} моделей за {crossed['seconds']:.0f} с; обращений, которые были в "
            f"истории реестра и читались без самих себя: {crossed['left_out']}"
        )
        check = figures.get("check")
        if check:
            self.stdout.write(
                f"Проверка: калибровка только по перекрёстным строкам на выборке «{split}» — без оператора "
                f"{check['routed'] / max(check['appeals'], 1):.1%} с точностью "
                f"{check['right'] / max(check['routed'], 1):.1%} ({check['routed']} из {check['appeals']})"
            )
