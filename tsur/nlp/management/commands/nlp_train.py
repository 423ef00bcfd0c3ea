import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tsur.nlp import dataset, understanding
from tsur.nlp.management.common import pairs, threshold_text
from tsur.nlp.model import TextModel


class Command(BaseCommand):
    help = "Train text classifiers from a CSV export: text (+ context columns) → one or more target columns."

    def add_arguments(self, parser):
        parser.add_argument("--data", type=Path, required=True, help="CSV or CSV.gz with a header row")
        parser.add_argument("--text-col", default="text")
        parser.add_argument(
            "--target", action="append", required=True, help="a column to predict (repeatable)"
        )
        parser.add_argument(
            "--context-col", action="append", default=[], help="a column known at intake (repeatable)"
        )
        parser.add_argument("--split-col", help="column with train/dev/test; test rows are never used")
        parser.add_argument("--train-split", default="train")
        parser.add_argument("--dev-split", default="dev")
        parser.add_argument(
            "--precision", type=float, default=0.95, help="precision wanted above the routing threshold"
        )
        parser.add_argument("--no-embeddings", action="store_true", help="skip the navec embedding features")
        parser.add_argument(
            "--bind",
            action="append",
            default=[],
            help="what a target means in the register: topic=COL, category=COL, organisation=COL",
        )
        parser.add_argument(
            "--bind-context",
            action="append",
            default=[],
            help="which appeal field fills a context column: COL=place_kind|district|territory|address",
        )
        parser.add_argument("--out", type=Path, required=True, help="model directory to write")
        parser.add_argument("--json", action="store_true", help="print the manifest as JSON")

    def handle(self, *args, **o):
        bindings = pairs(o["bind"], "--bind")
        context_bindings = pairs(o["bind_context"], "--bind-context")
        if bad := set(bindings) - set(understanding.TARGET_ROLES):
            raise CommandError(f"--bind: неизвестные роли {sorted(bad)}; есть {understanding.TARGET_ROLES}")
        if bad := set(context_bindings.values()) - set(understanding.CONTEXT_FIELDS):
            raise CommandError(
                f"--bind-context: неизвестные поля {sorted(bad)}; есть {understanding.CONTEXT_FIELDS}"
            )
        if bad := set(bindings.values()) - set(o["target"]):
            raise CommandError(f"--bind ссылается на колонки, которые не цели: {sorted(bad)}")
        if not 0 < o["precision"] <= 1:
            raise CommandError("--precision должна быть в (0, 1]")
        try:
            table = dataset.read_table(o["data"])
            table.require(o["text_col"], *o["target"], *o["context_col"])
            train, dev = dataset.split(table, o["split_col"], o["train_split"], o["dev_split"])
        except dataset.DatasetError as error:
            raise CommandError(str(error)) from error
        started = time.monotonic()
        self.stderr.write(f"Обучение: {len(train)} строк, калибровка: {len(dev)} строк")

        def progress(step: str):
            self.stderr.write(f"  {time.monotonic() - started:6.1f} с  {step}")

        text, context = o["text_col"], o["context_col"]
        try:
            model = TextModel.train(
                table.examples(train, text, context),
                {t: [r[t] for r in train] for t in o["target"]},
                table.examples(dev, text, context),
                {t: [r[t] for r in dev] for t in o["target"]},
                precision=o["precision"],
                embeddings=not o["no_embeddings"],
                progress=progress,
                manifest={
                    "data": {
                        "file": str(o["data"]),
                        "sha256": table.sha256,
                        "text_column": text,
                        "split_column": o["split_col"],
                    },
                    "bindings": bindings,
                    "context_bindings": context_bindings,
                },
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        model.save(o["out"])
        if o["json"]:
            self.stdout.write(json.dumps(model.manifest, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"Модель записана в {o['out']} за {model.manifest['train_seconds']} с")
        for name, target in model.manifest["targets"].items():
            dev_figures = target["dev"]
            if not dev_figures:
                self.stdout.write(f"  {name}: {target['classes']} классов (калибровать не на чем)")
                continue
            self.stdout.write(
                f"  {name}: {target['classes']} классов; dev: accuracy {dev_figures['accuracy']:.3f}, "
                f"macro-F1 {dev_figures['macro_f1']:.3f}; порог {threshold_text(target['threshold'])} даёт точность "
                f"{(dev_figures['accuracy_above_threshold'] or 0):.3f} на {dev_figures['coverage']:.1%} обращений"
            )
