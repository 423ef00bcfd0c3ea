"""Triage: the rules decide what is plain; the model trained from moderators' decisions decides the
rest when confident, and shows its guess with the confidence when not."""

import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from tsur.social import triage
from tsur.social.choices import Label, LabelledBy
from tsur.social.models import Post

from .factories import SourceFactory


@pytest.mark.parametrize(
    ("text", "label", "reason"),
    [
        ("Админ дебил, удали пост", Label.ABUSE, "оскорбление или спам"),
        ("Заработок от 5000 в день, пиши в лс", Label.ABUSE, "оскорбление или спам"),
        ("Продам диван, самовывоз", Label.OTHER, "минус-слово «продам»"),
        ("Третий день не вывозят мусор у дома 5", Label.COMPLAINT, "«не вывозят»"),
        ("Спасибо дворникам за чистый двор", Label.THANKS, "«спасибо»"),
        ("", Label.OTHER, "нет текста"),
    ],
)
def test_rules(text, label, reason):
    verdict = triage.by_rules(text, ["продам"])
    assert (verdict.label, verdict.by, verdict.reason) == (label, LabelledBy.RULE, reason)


@pytest.mark.parametrize(
    "text",
    [
        "Подскажите, когда дадут горячую воду?",  # a question with a complaint's words: the model or a person
        "Какой красивый закат сегодня",
        "Спасибо, но мусор так и не вывозят",  # thanks and a complaint at once
    ],
)
def test_what_the_rules_leave(text):
    assert triage.by_rules(text) is None


def test_without_a_model_undecided_posts_wait():
    (verdict,) = triage.triage(["Какой красивый закат сегодня"])
    assert (verdict.label, verdict.by, verdict.guess, verdict.confidence) == ("", "", "", None)


def test_the_model_decides_alone_only_when_confident(settings, tmp_path):
    texts = ["Когда откроют каток во дворе?"] * 6 + ["Красивый закат над рекой"] * 6
    labels = [Label.QUESTION] * 6 + [Label.OTHER] * 6
    triage.TriageModel.train(texts, labels).save(tmp_path)
    settings.SOCIAL = {**settings.SOCIAL, "TRIAGE_MODEL": str(tmp_path), "TRIAGE_CONFIDENCE": 0.99}
    triage.forget_model()

    sure, unsure = triage.triage(["Когда откроют каток во дворе?", "Когда закат над рекой?"])

    assert unsure.label == "" and unsure.guess in (Label.QUESTION, Label.OTHER) and unsure.confidence < 0.99
    settings.SOCIAL = {**settings.SOCIAL, "TRIAGE_CONFIDENCE": 0.5}
    sure, _ = triage.triage(["Когда откроют каток во дворе?", "Когда закат над рекой?"])
    assert (sure.label, sure.by) == (Label.QUESTION, LabelledBy.MODEL)


@pytest.mark.django_db
def test_retrain_learns_the_moderators_decisions_and_records_its_measurement(tmp_path, settings):
    source = SourceFactory()
    now = timezone.now()
    said = {
        Label.QUESTION: ["Когда откроют каток у школы {}?", "Подскажите, когда починят лифт в доме {}?"],
        Label.OTHER: ["Продаю велосипед номер {}", "Красивый закат номер {}"],
    }
    for label, templates in said.items():
        for i in range(30):
            Post.objects.create(
                source=source,
                network="vk",
                external_id=f"wall-1_{label}{i}",
                text=templates[i % 2].format(i),
                posted_at=now,
                found_at=now,
                fingerprint="",
                label=label,
                labelled_by=LabelledBy.MODERATOR,
            )
    settings.SOCIAL = {**settings.SOCIAL, "TRIAGE_MODEL": str(tmp_path / "model")}

    call_command("social_retrain")

    manifest = json.loads((tmp_path / "model" / "manifest.json").read_text())
    held = manifest["held_out"]
    assert manifest["origins"] == {"moderator": 60} and manifest["examples"] == 60
    assert held["examples"] + 0 < 60 and held["examples"] > 0  # one group in five held out, measured
    assert set(held["per_label"]) <= {"question", "other"}
    ((label, confidence),) = triage.model().predict(["Когда откроют каток у школы 77?"])
    assert label == Label.QUESTION and confidence > 0.5
