"""What happens next with a resident's appeal, in a line: who is waiting for whom, until when, and
whether the resident has something to do (rate the answer, reply to a question)."""

from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from tsur.appeals.choices import Status
from tsur.appeals.lifecycle import may_rate

S = Status


@dataclass(frozen=True)
class NextStep:
    text: str
    todo: bool = False  # the resident is the one to act


def _day(moment) -> str:
    return date_format(timezone.localtime(moment), "d.m.Y")


def next_step(appeal, *, author: bool) -> NextStep:
    """For the author (or the holder of their link) and for a resident who joined the appeal."""
    status = appeal.status
    if status in (S.REGISTERED, S.MODERATION):
        return NextStep(_("Проверяется оператором ЦУР"))
    if status in (S.ASSIGNED, S.IN_WORK):
        if appeal.resolution_due:
            return NextStep(_("Ждёт ответа до %(day)s") % {"day": _day(appeal.resolution_due)})
        return NextStep(_("Ждёт ответа исполнителя"))
    if status == S.INTERIM:
        if appeal.planned_at:
            return NextStep(_("Решение запланировано на %(day)s") % {"day": _day(appeal.planned_at)})
        return NextStep(_("Дан промежуточный ответ"))
    if status == S.CLARIFICATION:
        if author:
            return NextStep(_("Ответьте на вопрос исполнителя"), todo=True)
        return NextStep(_("Исполнитель ждёт уточнения от заявителя"))
    if status == S.REVIEW:
        return NextStep(_("Ответ готовится"))
    if status == S.ANSWERED:
        if not author:
            return NextStep(_("Ответ дан"))
        if may_rate(appeal):
            return NextStep(_("Ответ дан — оцените"), todo=True)
        return NextStep(_("Ответ дан — подтвердите решение или возобновите обращение"), todo=True)
    if status == S.CLOSED:
        if author and may_rate(appeal):
            return NextStep(_("Закрыто — оцените ответ"), todo=True)
        return NextStep(_("Закрыто"))
    if status == S.MERGED:
        if appeal.merged_into_id:
            return NextStep(_("Объединено с обращением № %(number)s") % {"number": appeal.merged_into.number})
        return NextStep(_("Объединено с другим обращением"))
    return NextStep(_("Отклонено"))
