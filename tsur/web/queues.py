"""The lists the workspaces show: the operator's queues and filters, the organisation's queue.
Reads only; who sees what comes from `Appeal.objects.restrict`."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tsur.analytics import kpi, live
from tsur.analytics.models import Signal
from tsur.appeals import deadlines, policies, search
from tsur.appeals.choices import RUNNING_STATUSES, DeadlineState, Status
from tsur.appeals.lifecycle import OPEN_STATUSES
from tsur.appeals.models import Appeal, AppealEvent
from tsur.core.choices import Role
from tsur.core.memo import RememberedByKey
from tsur.core.models import User
from tsur.core.scopes import scope_for
from tsur.dispatch.models import OutageAppeal

S = Status


@dataclass(frozen=True)
class Queue:
    key: str
    label: str


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    """The local day as [start, start of the next day)."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _today(now: datetime) -> tuple[datetime, datetime]:
    return _day_bounds(timezone.localtime(now).date())


# ------------------------------------------------------------------ the operator's console


def card_prefix(name: str) -> str:
    """The path of an appeal's card without its number (a list's rows append theirs): one
    `reverse()` per page rather than per row, which cost a fifth of the console's page."""
    return reverse(name, args=["0"]).removesuffix("0/")


CONSOLE_QUEUES = [
    Queue("moderation", _("Модерация")),
    Queue("unassigned", _("Без исполнителя")),
    Queue("review", _("Ответы на проверке")),
    Queue("today", _("Срок сегодня")),
    Queue("overdue", _("Просрочено")),
    Queue("mine", _("Мои")),
    Queue("open", _("Все открытые")),
    Queue("all", _("Весь реестр")),
]
CONSOLE_DEFAULT = "moderation"


def console_condition(key: str, user, now: datetime) -> Q:
    open_ = Q(status__in=OPEN_STATUSES)
    if key == "moderation":
        return Q(status__in=[S.REGISTERED, S.MODERATION])
    if key == "unassigned":
        return open_ & Q(organisation__isnull=True)
    if key == "review":
        return Q(status=S.REVIEW)
    if key == "today":
        start, end = _today(now)
        return Q(status__in=RUNNING_STATUSES, resolution_due__gte=start, resolution_due__lt=end)
    if key == "overdue":
        return deadlines.overdue_now(now)
    if key == "mine":  # what this operator filed or took a step on
        return open_ & (
            Q(submitted_by=user.pk) | Q(pk__in=AppealEvent.objects.filter(actor=user.pk).values("appeal_id"))
        )
    if key == "open":
        return open_
    return Q()


# how long a person's counts are kept when no appeal's timeline moved (a deadline state lowered
# quietly by the job worker writes no event): decision 0024
COUNTS_TTL_S = 15.0


def console_counts(user, now: datetime) -> dict[str, int]:
    """Every queue's size (but «весь реестр»): one query over the open appeals the user sees, kept
    per person until the register's timeline moves (any step, any filing, writes an event) or for
    COUNTS_TTL_S, so the page and its live refresh do not count the register every time."""
    latest = AppealEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    return _counts.get((user, latest, timezone.localtime(now).replace(second=0, microsecond=0)))


def _count(key) -> dict[str, int]:
    user, _latest, now = key  # to the minute: «срок сегодня» and «просрочено» move with the clock
    visible = Appeal.objects.restrict(user).filter(status__in=OPEN_STATUSES)  # every queue counted is open
    keys = [q.key for q in CONSOLE_QUEUES if q.key != "all"]
    return visible.aggregate(**{k: Count("pk", filter=console_condition(k, user, now)) for k in keys})


_counts = RememberedByKey(_count, COUNTS_TTL_S, max_items=1000)


def forget_counts() -> None:
    _counts.forget()


def filtered(queryset, data: dict, reader):
    """The console's filters (QueueFilterForm.cleaned_data) applied to `queryset`."""
    if data.get("status"):
        queryset = queryset.filter(status=data["status"])
    queryset = queryset.filter(kpi.narrowed_by(data, block="topic__block"))
    if data.get("deadline_state"):
        queryset = queryset.filter(deadlines.in_state(data["deadline_state"], timezone.now()))
    if data.get("since"):
        queryset = queryset.filter(registered_at__gte=_day_bounds(data["since"])[0])
    if data.get("until"):
        queryset = queryset.filter(registered_at__lt=_day_bounds(data["until"])[1])
    if data.get("kpi"):
        queryset = kpi.drill_appeals(queryset, data["kpi"], timezone.now(), data)
    queryset = _wall_filters(queryset, data)
    if data.get("q"):
        queryset = search.matching(queryset, data["q"], reader)
    sort = data.get("sort") or "-registered_at"
    return queryset.order_by(sort, "-pk")


def _wall_filters(queryset, data: dict):
    """What the wall screen's figures select beyond the console's own fields (tsur.analytics.live)."""
    if data.get("after"):
        queryset = queryset.filter(registered_at__gte=data["after"])
    if data.get("answered"):
        queryset = queryset.filter(pk__in=live.answered_between(*_day_bounds(data["answered"])))
    if data.get("outage"):
        queryset = queryset.filter(
            pk__in=OutageAppeal.objects.filter(outage=data["outage"]).values("appeal_id")
        )
    if data.get("signal"):
        queryset = queryset.filter(
            pk__in=Signal.appeals.through.objects.filter(signal=data["signal"]).values("appeal_id")
        )
    if data.get("cell"):
        queryset = live.in_cell(queryset, data["cell"])
    return queryset


# ------------------------------------------------------------------ the organisation's queue

WORK_QUEUES = [
    Queue("mine", _("Мои")),
    Queue("new", _("Новые")),
    Queue("in_work", _("В работе")),
    Queue("waiting", _("Ждут гражданина")),
    Queue("soon", _("Срок истекает")),
    Queue("overdue", _("Просрочено")),
    Queue("review", _("Ответы на проверке")),
    Queue("answered", _("Отвечено")),
]
WORK_DEFAULT = "new"
WORK_STATUSES = [S.ASSIGNED, S.IN_WORK, S.INTERIM, S.CLARIFICATION, S.REVIEW, S.ANSWERED]


ACTIVE = [S.ASSIGNED, S.IN_WORK, S.INTERIM, S.CLARIFICATION]


def work_condition(key: str, user, now: datetime | None = None) -> Q:
    now = now or timezone.now()
    active = Q(status__in=ACTIVE)
    return {
        "mine": active & Q(assignee=user.pk),  # what the person took or was handed
        "new": Q(status=S.ASSIGNED),
        "in_work": Q(status__in=[S.IN_WORK, S.INTERIM]),
        "waiting": Q(status=S.CLARIFICATION),
        "soon": active & deadlines.in_state(DeadlineState.SOON, now),
        "overdue": active & deadlines.in_state(DeadlineState.OVERDUE, now),
        "review": Q(status=S.REVIEW),
        "answered": Q(status=S.ANSWERED),
    }.get(key, active)


def work_queryset(user):
    """The appeals the user's organisation works (those they may take or answer)."""
    return Appeal.objects.restrict(user, "take").filter(status__in=WORK_STATUSES)


def work_counts(user) -> dict[str, int]:
    now = timezone.now()
    return work_queryset(user).aggregate(
        **{q.key: Count("pk", filter=work_condition(q.key, user, now)) for q in WORK_QUEUES}
    )


def load_by_organisation(user) -> list[dict]:
    """The supervisor's view of the load: open appeals per organisation (theirs and subordinate ones)
    by status and deadline state."""
    return list(
        Appeal.objects.restrict(user, "take")
        .filter(status__in=ACTIVE)
        .values("organisation__name")
        .annotate(**load(timezone.now()))
        .order_by("-overdue", "-total")
    )


def load(now: datetime) -> dict:
    """The columns of the supervisor's load table."""
    return {
        "total": Count("pk"),
        "assigned": Count("pk", filter=Q(status=S.ASSIGNED)),
        "in_work": Count("pk", filter=Q(status__in=[S.IN_WORK, S.INTERIM])),
        "waiting": Count("pk", filter=Q(status=S.CLARIFICATION)),
        "soon": Count("pk", filter=deadlines.in_state(DeadlineState.SOON, now)),
        "overdue": Count("pk", filter=deadlines.in_state(DeadlineState.OVERDUE, now)),
    }


def people_of(user):
    """The people of the organisations a supervisor oversees (theirs and subordinate ones): active
    users with an executor or supervisor role there, whom the supervisor may hand appeals to."""
    scope = scope_for(user, {Role.SUPERVISOR, Role.ADMINISTRATOR})
    if not (scope.region or scope.organisation_paths):
        return User.objects.none()
    where = Q(assignments__role__in=policies.ASSIGNEE_ROLES) & scope.q(
        organisation="assignments__organisation"
    )
    return (
        User.objects.filter(where, is_active=True).distinct().order_by("last_name", "first_name", "username")
    )


def load_by_person(user) -> list[dict]:
    """The same load per person: everyone of the organisations overseen (with nothing, too), whoever
    else still holds some of their appeals, and the appeals nobody has taken yet (person None)."""
    columns = load(timezone.now())
    counted = {
        row.pop("assignee"): row
        for row in Appeal.objects.restrict(user, "take")
        .filter(status__in=ACTIVE)
        .values("assignee")
        .annotate(**columns)
    }
    nothing = dict.fromkeys(columns, 0)
    people = list(people_of(user))
    known = {p.pk for p in people}
    people += User.objects.filter(pk__in=[pk for pk in counted if pk is not None and pk not in known])
    rows = [{"person": p, **counted.get(p.pk, nothing)} for p in people]
    rows.sort(key=lambda row: (-row["overdue"], -row["total"]))
    if None in counted:
        rows.append({"person": None, **counted[None]})
    return rows
