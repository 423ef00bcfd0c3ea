import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tsur.nlp import dataset, metrics, reference
from tsur.nlp.management.common import load_model, threshold_text


class Command(BaseCommand):
    help = "Evaluate a text model on a CSV: accuracy, macro/weighted F1, top-3, coverage above the threshold."

    def add_arguments(self, parser):
        parser.add_argument("--model", help="model directory (default: the register's model)")
        parser.add_argument("--data", type=Path, required=True)
        parser.add_argument("--text-col", default="text")
        parser.add_argument("--label-col", required=True, help="column with the true values")
        parser.add_argument("--target", help="the model's target to evaluate (default: same as --label-col)")
        parser.add_argument("--split-col")
        parser.add_argument("--split", default="test", help="rows of --split-col to evaluate on")
        parser.add_argument(
            "--reference",
            action="store_true",
            help="also train and measure the plain TF-IDF + logistic regression on the train split",
        )
        parser.add_argument("--train-split", default="train")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        model = load_model(o["model"])
        target = o["target"] or o["label_col"]
        if target not in model.classifiers:
            raise CommandError(f"В модели нет цели «{target}»; есть: {', '.join(model.targets)}")
        try:
            table = dataset.read_table(o["data"])
            table.require(o["text_col"], o["label_col"], *model.context_columns)
            rows = table.rows
            if o["split_col"]:
                table.require(o["split_col"])
                rows = [r for r in rows if r[o["split_col"]] == o["split"]]
        except dataset.DatasetError as error:
            raise CommandError(str(error)) from error
        rows = [r for r in rows if r[o["label_col"]]]
        if not rows:
            raise CommandError("Нет строк для оценки (проверьте --split-col/--split и --label-col).")
        classifier = model.classifiers[target]
        started = time.monotonic()
        proba = model.predict_proba(table.examples(rows, o["text_col"], model.context_columns))[target]
        seconds = time.monotonic() - started
        truth = [r[o["label_col"]] for r in rows]
        result = metrics.evaluate(truth, proba, classifier.classes, classifier.threshold)
        result.update(target=target, texts_per_second=round(len(rows) / seconds, 1))
        if o["reference"]:
            if not o["split_col"]:
                raise CommandError(
                    "--reference обучается на строках --split-col=--train-split: укажите --split-col"
                )
            train = [r for r in table.rows if r[o["split_col"]] == o["train_split"] and r[o["label_col"]]]
            result["reference"] = reference.measure(
                [r[o["text_col"]] for r in train],
                [r[o["label_col"]] for r in train],
                [r[o["text_col"]] for r in rows],
                truth,
            )
        if o["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
            return
        self._print(result)

    def _print(self, r: dict) -> None:
        out = self.stdout.write
        out(f"Цель «{r['target']}», строк: {r['n']}")
        out(f"  accuracy          {r['accuracy']:.4f}")
        out(f"  macro-F1          {r['macro_f1']:.4f}")
        out(f"  weighted-F1       {r['weighted_f1']:.4f}")
        out(f"  top-3 accuracy    {r['top3_accuracy']:.4f}")
        above = r["accuracy_above_threshold"]
        out(
            f"  порог {threshold_text(r['threshold'])}: выше него {r['coverage']:.1%} обращений, "
            f"точность на них {above:.4f}"
            if above is not None
            else f"  порог {threshold_text(r['threshold'])}: выше него нет ни одного обращения"
        )
        if ref := r.get("reference"):
            out(
                f"  эталон TF-IDF + LR: accuracy {ref['accuracy']:.4f}, macro-F1 {ref['macro_f1']:.4f}, "
                f"weighted-F1 {ref['weighted_f1']:.4f} (обучение {ref['train_seconds']} с)"
            )
        out("")
        width = min(60, max(len(c["class"]) for c in r["per_class"]))
        out(f"  {'класс':<{width}}  precision  recall     F1  support")
        for c in sorted(r["per_class"], key=lambda c: -c["support"]):
            out(
                f"  {c['class'][:width]:<{width}}  {c['precision']:9.3f}  {c['recall']:6.3f}  {c['f1']:5.3f}  "
                f"{c['support']:7d}"
            )
