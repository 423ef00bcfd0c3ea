"""Template helpers of the workspace: a deadline as the time left in working days."""

from django import template
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from tsur.appeals import deadlines
from tsur.appeals.choices import DeadlineState

register = template.Library()


def _left(countdown: deadlines.Countdown) -> str:
    if countdown.overdue:
        if countdown.working_days < 0:
            return _("−%(n)s раб. дн.") % {"n": -countdown.working_days}
        return _("−%(n)s ч") % {"n": max(countdown.hours, 1)}
    if countdown.working_days <= 0:
        return _("осталось %(n)s ч") % {"n": countdown.hours}
    # «раб. дн.»: the abbreviation reads right with any number (no plural forms without a catalogue)
    return _("%(n)s раб. дн.") % {"n": countdown.working_days}


@register.simple_tag
def countdown(appeal, now=None):
    """The resolution deadline of `appeal` as a coloured badge: working days left on the production
    calendar, hours on the last day, and how long ago it passed."""
    now = now or timezone.now()
    left = deadlines.countdown(appeal, now)
    if left is None:
        if appeal.paused_since is not None:
            return format_html('<span class="due paused">{}</span>', _("на паузе"))
        return format_html('<span class="due none">{}</span>', "—")
    due = timezone.localtime(appeal.resolution_due).strftime("%d.%m %H:%M")
    if not left.overdue and left.state == DeadlineState.OVERDUE:
        # overdue, as every count says, by the first response: the resolution deadline is still ahead
        first = timezone.localtime(appeal.first_response_due).strftime("%d.%m %H:%M")
        return format_html(
            '<span class="due overdue" title="{} {}. {} {} ({})">{}</span>',
            _("Нет первого ответа. Его срок:"),
            first,
            _("Срок решения:"),
            due,
            _left(left),
            _("просрочен первый ответ"),
        )
    return format_html(
        '<span class="due {}" title="{} {}">{}</span>',
        "overdue" if left.overdue else left.state,
        _("Просрочено. Срок решения:") if left.overdue else _("Срок решения:"),
        due,
        _left(left),
    )


@register.simple_tag
def console_rows(appeals, now=None):
    """The console list's rows, written in Python: the list is the page operators look at all day, and
    the template's variable lookups, filters and translations per cell were half of its server time
    (with Django's own get_status_display, since replaced on the model).
    The same HTML as the template's row was (tests/test_console_rows.py keeps them equal)."""
    now = now or timezone.now()
    tick = _("Отметить обращение %(number)s")  # the msgid of the template's blocktranslate
    dash = "—"
    rows = []
    for appeal in appeals:
        number = conditional_escape(appeal.number)
        address = appeal.building.address if appeal.building else (appeal.shown_address or dash)
        rows.append(
            "<tr>"
            f'<td class="check c-check"><input type="checkbox" name="numbers" value="{number}" form="bulk" '
            f'aria-label="{conditional_escape(tick % {"number": appeal.number})}"></td>'
            f'<td class="nowrap c-num"><a href="{conditional_escape(appeal.card_url)}">{number}</a></td>'
            f'<td class="nowrap c-date">{timezone.localtime(appeal.registered_at).strftime("%d.%m.%y %H:%M")}</td>'
            f'<td class="text-cell c-text">{conditional_escape(Truncator(appeal.text or "").chars(110))}</td>'
            f'<td class="c-topic">{conditional_escape((appeal.topic.name if appeal.topic else "") or dash)}</td>'
            f'<td class="c-addr">{conditional_escape(address)}</td>'
            f'<td class="c-org">{conditional_escape(appeal.organisation or dash)}</td>'
            f'<td class="c-status"><span class="pill st-{conditional_escape(appeal.status)}">'
            f"{conditional_escape(appeal.get_status_display())}</span></td>"
            f'<td class="nowrap c-due">{countdown(appeal, now)}</td>'
            "</tr>"
        )
    return mark_safe("\n".join(rows))  # noqa: S308 - every value above is escaped
