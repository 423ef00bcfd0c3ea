"""Triage of a post: complaint, question, thanks, other or abuse.

Rules first (`by_rules`): what is plain from the words — abuse and spam, a minus-word of the
watch-list, a clear complaint, plain thanks. What the rules do not settle goes to the model trained
from the moderators' decisions (`TriageModel`, built by `tsur social_retrain`); the model labels
alone at `SOCIAL["TRIAGE_CONFIDENCE"]` or above, otherwise the post waits in the moderator's queue
with the model's guess and its confidence shown. Without a model every such post waits.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from tsur.core import memo

from .choices import Label, LabelledBy
from .text import plain

ABUSE = re.compile(
    r"\b(?:х[уy]й\w*|х[уy]е\w*|пизд\w*|[её]бан\w*|[её]б\w*ть|бля\w*|сук[аи]\b|мраз\w*|твар[ьи]\b|уебк\w*|чмо\w*"
    r"|дебил\w*|идиот\w*|дегенерат\w*|урод\w*|гнид\w*)"
    r"|\b(?:казино|ставки\s+на\s+спорт|заработ\w+\s+(?:от|до)\s+\d+|пиши\s+в\s+лс|промокод\w*|букмекер\w*)",
    re.IGNORECASE,
)
THANKS = re.compile(r"\b(?:спасибо|благодар\w*|молодц\w*|оперативно\s+сработал\w*)\b")
COMPLAINT = re.compile(
    r"\bне\s+(?:вывоз\w*|убира\w*|убран\w*|горит|горят|работа\w*|чист\w*|почин\w*|дают|включ\w*|отремонт\w*)"
    r"|\bнет\s+(?:горяч\w+\s+|холодн\w+\s+)?(?:воды|света|отоплени\w*|тепла)"
    r"|\b(?:ям[аыу]|ямищ\w*|прорыв\w*|прорвал\w*|теч[её]т|протека\w*|затопил\w*|затопл\w*|сосул\w*|налед\w*"
    r"|гололед\w*|свалк\w*|завал\w*|авари\w*|канализац\w*|засор\w*|провал\w*|колдобин\w*|развалива\w*)"
)
QUESTION_WORDS = re.compile(r"^(?:подскажите|кто\s+знает|когда|почему|куда\s+обращаться|куда\s+жаловаться)\b")


@dataclass(frozen=True)
class Verdict:
    label: str  # "" when nobody decided: the post waits for a moderator
    by: str  # LabelledBy, or "" while waiting
    guess: str = ""
    confidence: float | None = None
    reason: str = ""


def by_rules(text: str, minus_words=()) -> Verdict | None:
    words = plain(text)
    if not words:
        return Verdict(Label.OTHER, LabelledBy.RULE, Label.OTHER, 1.0, "нет текста")
    if ABUSE.search(words):
        return Verdict(Label.ABUSE, LabelledBy.RULE, Label.ABUSE, 1.0, "оскорбление или спам")
    for minus in minus_words:
        if minus and plain(minus) and re.search(rf"\b{re.escape(plain(minus))}", words):
            return Verdict(Label.OTHER, LabelledBy.RULE, Label.OTHER, 1.0, f"минус-слово «{minus}»")
    complaint = COMPLAINT.search(words)
    thanks = THANKS.search(words)
    question = "?" in (text or "") or QUESTION_WORDS.search(words)
    if complaint and not thanks and not question:
        return Verdict(Label.COMPLAINT, LabelledBy.RULE, Label.COMPLAINT, 1.0, f"«{complaint.group(0)}»")
    if thanks and not complaint and not question:
        return Verdict(Label.THANKS, LabelledBy.RULE, Label.THANKS, 1.0, f"«{thanks.group(0)}»")
    return None


class TriageModel:
    """A scikit-learn pipeline (character n-grams → logistic regression) over the plain words of a
    post, with the manifest of how it was trained and measured."""

    def __init__(self, pipeline, manifest: dict):
        self.pipeline, self.manifest = pipeline, manifest

    @classmethod
    def train(cls, texts: list[str], labels: list[str], manifest: dict | None = None) -> "TriageModel":
        # scikit-learn loads with the first model, not in every process that imports the app
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        pipeline = make_pipeline(
            TfidfVectorizer(
                analyzer="char_wb", ngram_range=(2, 4), min_df=2, sublinear_tf=True, max_features=200_000
            ),
            LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced"),
        )
        pipeline.fit([plain(t) for t in texts], labels)
        return cls(pipeline, dict(manifest or {}, labels=sorted(set(labels)), examples=len(texts)))

    def predict(self, texts: list[str]) -> list[tuple[str, float]]:
        probabilities = self.pipeline.predict_proba([plain(t) for t in texts])
        classes = self.pipeline.classes_
        return [(str(classes[row.argmax()]), float(row.max())) for row in probabilities]

    def save(self, directory: Path) -> None:
        import joblib

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.pipeline, directory / "pipeline.joblib")
        (directory / "manifest.json").write_text(json.dumps(self.manifest, ensure_ascii=False, indent=2))

    @classmethod
    def load(cls, directory: Path) -> "TriageModel | None":
        import joblib

        directory = Path(directory)
        if not (directory / "pipeline.joblib").exists():
            return None
        manifest = json.loads((directory / "manifest.json").read_text())
        return cls(joblib.load(directory / "pipeline.joblib"), manifest)


def _load_model():
    path = settings.SOCIAL.get("TRIAGE_MODEL") or ""
    return TriageModel.load(Path(path)) if path else None


# the model file is the database's copy here: read once per process, again after `forget_model`
# (the retrain command calls it) or within five minutes in other processes
_model = memo.Remembered(_load_model, ttl=300)


def model() -> TriageModel | None:
    return _model.get()


def forget_model() -> None:
    _model.forget()


def triage(texts: list[str], minus_words=()) -> list[Verdict]:
    """A verdict for each text: the rules', else the model's when confident, else waiting."""
    verdicts: list[Verdict | None] = [by_rules(t, minus_words) for t in texts]
    undecided = [i for i, v in enumerate(verdicts) if v is None]
    current = model() if undecided else None
    threshold = settings.SOCIAL["TRIAGE_CONFIDENCE"]
    if current is None or not undecided:
        return [v if v is not None else Verdict("", "") for v in verdicts]
    guesses = current.predict([texts[i] for i in undecided])
    for i, (guess, p) in zip(undecided, guesses, strict=True):
        verdicts[i] = (
            Verdict(guess, LabelledBy.MODEL, guess, p) if p >= threshold else Verdict("", "", guess, p)
        )
    return [v if v is not None else Verdict("", "") for v in verdicts]
