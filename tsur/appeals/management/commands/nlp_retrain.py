from django.core.management.base import BaseCommand, CommandError

from tsur.appeals import learning
from tsur.nlp.management.common import model_directory, threshold_text


class Command(BaseCommand):
    help = "Retrain the register's model with the operators' routing decisions as labels."

    def add_arguments(self, parser):
        parser.add_argument("--model", help="model directory (default: the register's model)")
        parser.add_argument("--weight", type=int, default=3, help="how many times a label counts (default 3)")

    def handle(self, *args, model: str | None, weight: int, **options):
        directory = model_directory(model)
        if weight < 1:
            raise CommandError("--weight должен быть не меньше 1")
        try:
            report = learning.retrain(
                directory, weight=weight, progress=lambda m: self.stderr.write(f"  {m}")
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Модель переобучена: строк выгрузки {report.export_rows}, решений операторов {report.corrections} "
            f"(каждое ×{weight}); записана в {directory}, прежняя — в {directory.name}.previous"
        )
        for name, target in report.model.manifest["targets"].items():
            dev = target["dev"]
            if dev:
                self.stdout.write(
                    f"  {name}: dev accuracy {dev['accuracy']:.3f}, macro-F1 {dev['macro_f1']:.3f}, "
                    f"порог {threshold_text(target['threshold'])}, покрытие {dev['coverage']:.1%}"
                )
