"""Template helpers of the workspace: a deadline as the time left in working days."""

from django import template
from django.utils import timezone
from django.utils.html import format_html
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
