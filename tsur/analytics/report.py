"""The governor's weekly report: what the region asked about last week, who answered well and who did
not, what rose out of the ordinary. Made every Monday at 07:00 in the region's time for the week that
ended (the periodic job asks `due` every quarter of an hour, so a worker that was down at seven makes
it when it is back), and on demand from the archive page; kept as HTML and PDF, mailed to subscribers
as a link (the report stays behind sign-in).

Its figures come from `kpi`, `ratings` and `anomalies`: the same definitions as every page and export.
It holds no citizen's personal data: numbers of appeals, organisations, territories and topics only."""

import logging
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tsur.notify.choices import ChannelKind, Topic
from tsur.notify.models import Delivery
from tsur.notify.publish import deliver

from . import sections
from .models import ReportState, ReportSubscription, WeeklyReport

log = logging.getLogger(__name__)

MAKE_AT = time(7, 0)  # Monday, the region's time (settings.TIME_ZONE)


def week_bounds(week_start: date) -> tuple[datetime, datetime]:
    """The week as [Monday 00:00, next Monday 00:00) in the region's time."""
    start = timezone.make_aware(datetime.combine(week_start, time.min))
    return start, timezone.make_aware(datetime.combine(week_start + timedelta(days=7), time.min))


def last_full_week(now: datetime | None = None) -> date:
    """The Monday of the latest week that has ended."""
    today = timezone.localtime(now or timezone.now()).date()
    return today - timedelta(days=today.weekday() + 7)


def due(now: datetime | None = None) -> date | None:
    """The week to report on if its report should exist by now and does not: from Monday 07:00 on."""
    now = timezone.localtime(now or timezone.now())
    monday = now.date() - timedelta(days=now.weekday())
    if now < timezone.make_aware(datetime.combine(monday, MAKE_AT)):
        return None
    week = monday - timedelta(days=7)
    if WeeklyReport.objects.filter(week_start=week).exclude(state=ReportState.FAILED).exists():
        return None
    return week


def request(week_start: date, user=None) -> WeeklyReport:
    """Mark the week's report as being made (a new one, or a remake of an earlier one) and return it;
    the job worker makes it (`make`)."""
    report, _created = WeeklyReport.objects.update_or_create(
        week_start=week_start,
        defaults={
            "state": ReportState.MAKING,
            "requested_at": timezone.now(),
            "made_by": user,
            "error": "",
        },
    )
    return report


def make(report_id: int, *, mail_subscribers: bool = False) -> WeeklyReport:
    """Gather the figures, render HTML and PDF, archive them; mail the subscribers if asked (the
    scheduled report is mailed, a remake on demand is not)."""
    report = WeeklyReport.objects.get(pk=report_id)
    try:
        data = sections.gather(report.week_start)
        html = render_html(data)
        pdf = render_pdf(html)
    except Exception as error:
        log.exception("weekly report for %s failed", report.week_start)
        WeeklyReport.objects.filter(pk=report.pk).update(state=ReportState.FAILED, error=str(error)[:500])
        raise
    with transaction.atomic():
        report = WeeklyReport.objects.select_for_update().get(pk=report.pk)
        if report.pdf:
            report.pdf.delete(save=False)
        report.html = html
        report.pdf.save(f"doklad-{report.week_start:%Y-%m-%d}.pdf", ContentFile(pdf), save=False)
        report.pdf_size = len(pdf)
        report.state = ReportState.READY
        report.made_at = timezone.now()
        report.save()
        if mail_subscribers:
            mail(report)
    return report


def render_html(data: sections.ReportData) -> str:
    """The report's body: shown inside the site's layout in the archive, and made into the PDF."""
    return render_to_string("analytics/report_body.html", {"data": data})


def document(body: str) -> str:
    """The body as a standalone document with its style sheet inline (the PDF fetches nothing)."""
    css = Path(finders.find("web/report.css")).read_text(encoding="utf-8")
    return (
        '<!doctype html><html lang="ru"><head><meta charset="utf-8">'
        f"<style>{css}</style></head><body>{body}</body></html>"
    )


def _no_fetching():
    """The report is self-contained (inline SVG and CSS): it fetches nothing, so no URL in it, whatever
    text reached it, can make the server open a connection or read a local file (every scheme refused)."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=frozenset(), allow_redirects=False)


def render_pdf(html: str) -> bytes:
    import weasyprint  # pango is loaded on first use: a server that never makes a report never needs it

    return weasyprint.HTML(string=document(html), url_fetcher=_no_fetching(), base_url="/").write_pdf()


def subscribe(user, wanted: bool) -> None:
    """Start or stop receiving the report by e-mail."""
    if wanted:
        ReportSubscription.objects.get_or_create(user=user)
    else:
        ReportSubscription.objects.filter(user=user).delete()


def mail(report: WeeklyReport) -> int:
    """One e-mail per subscriber with an address: the week, the headline figures in words and the
    link to the archive (stored deliveries with retries, like every notice). Returns how many."""
    link = settings.SITE_URL.rstrip("/") + reverse("web:analytics-report", args=[report.pk])
    subject = _("Доклад ЦУР за неделю с %(start)s по %(end)s") % {
        "start": f"{report.week_start:%d.%m.%Y}",
        "end": f"{report.week_start + timedelta(days=6):%d.%m.%Y}",
    }
    text = "\n".join(
        [
            subject,
            "",
            _("Доклад готов и лежит в архиве докладов (нужен вход в систему):"),
            link,
        ]
    )
    recipients = [
        s.user.email
        for s in ReportSubscription.objects.select_related("user").filter(user__is_active=True)
        if s.user.email
    ]
    deliver(
        [
            Delivery(
                channel=ChannelKind.EMAIL,
                address=address,
                topic=Topic.REPORT,
                subject=subject,
                text=text,
                payload={"report": report.pk, "week_start": report.week_start.isoformat()},
            )
            for address in recipients
        ]
    )
    WeeklyReport.objects.filter(pk=report.pk).update(mailed_at=timezone.now())
    return len(recipients)
