import json

from django.core.management.base import BaseCommand

from tsur.nlp.features import Example
from tsur.nlp.management.common import load_model, pairs, threshold_text


class Command(BaseCommand):
    help = "Print the model's top predictions for a text, with probabilities."

    def add_arguments(self, parser):
        parser.add_argument("text")
        parser.add_argument("--model", help="model directory (default: the register's model)")
        parser.add_argument("--context", action="append", default=[], help="COLUMN=value (repeatable)")
        parser.add_argument("--top", type=int, default=3)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, text: str, model: str | None, context: list[str], top: int, **o):
        loaded = load_model(model)
        guesses = loaded.predict([Example(text, pairs(context, "--context"))], top=max(1, top))[0]
        if o["json"]:
            payload = {
                t: [{"value": g.value, "probability": round(g.probability, 4)} for g in ranked]
                for t, ranked in guesses.items()
            }
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
            return
        for target, ranked in guesses.items():
            threshold = loaded.classifiers[target].threshold
            self.stdout.write(f"{target} (порог {threshold_text(threshold)}):")
            for guess in ranked:
                mark = "✓" if guess.probability >= threshold else " "
                self.stdout.write(f"  {mark} {guess.probability:.3f}  {guess.value}")
