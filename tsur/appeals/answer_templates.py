"""Answer templates filled in for one appeal and one reader: the executor starts from the text and
edits it before sending. The result is plain text (shown escaped, sent as text), never markup."""

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from . import policies
from .models import AnswerTemplate, Appeal

PLACEHOLDER = re.compile(r"\{([^{}\s]{1,30})\}")
KNOWN = frozenset({"номер", "дата", "организация", "срок", "имя"})
# what {имя} becomes for a reader without the right to the citizen's name, or when there is none
NEUTRAL_NAME = policies.NEUTRAL_NAME


@dataclass(frozen=True)
class Rendered:
    id: int
    name: str
    text: str


def available(appeal: Appeal):
    """The active templates for the appeal's topic and for any topic, the topic's own first."""
    topic = Q(topic__isnull=True) | (Q(topic=appeal.topic_id) if appeal.topic_id else Q(pk__in=[]))
    found = AnswerTemplate.objects.filter(topic, is_active=True)
    return sorted(found, key=lambda t: (t.topic_id is None, t.order, t.name, t.pk))


def values(appeal: Appeal, reader) -> dict[str, str]:
    zone = ZoneInfo(settings.TIME_ZONE)
    name = appeal.author_name if reader is not None and policies.can_see_personal_data(reader, appeal) else ""
    organisation = appeal.organisation if appeal.organisation_id else None
    return {
        "номер": appeal.number,
        "дата": appeal.registered_at.astimezone(zone).strftime("%d.%m.%Y"),
        "организация": organisation.name if organisation else "",
        "срок": appeal.resolution_due.astimezone(zone).strftime("%d.%m.%Y") if appeal.resolution_due else "",
        "имя": name or NEUTRAL_NAME,
    }


def render(template: AnswerTemplate, appeal: Appeal, reader) -> str:
    """The template's text with its placeholders filled; a placeholder it does not know stays as
    written, for the executor to see and replace."""
    return _fill(template.text, values(appeal, reader))


def _fill(text: str, known: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: known.get(m.group(1).lower(), m.group(0)), text)


def for_appeal(appeal: Appeal, reader) -> list[Rendered]:
    known = values(appeal, reader)
    return [Rendered(t.pk, t.name, _fill(t.text, known)) for t in available(appeal)]
