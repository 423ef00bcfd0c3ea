"""The places of the workspace and who may open them: the header shows a person only these, and
"/" takes each person to the first of theirs after signing in."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tsur.core.choices import Role
from tsur.dispatch import policies as dispatch_policies

R = Role
CONSOLE_ROLES = frozenset({R.OPERATOR, R.ADMINISTRATOR})
WORK_ROLES = frozenset({R.EXECUTOR, R.SUPERVISOR, R.ADMINISTRATOR})
OVERVIEW_ROLES = frozenset({R.ANALYST, R.LEADERSHIP, R.ADMINISTRATOR})
# the KPIs, ratings and complaint book's figures (a supervisor: of their organisation)
ANALYTICS_ROLES = frozenset({R.ANALYST, R.LEADERSHIP, R.SUPERVISOR, R.ADMINISTRATOR})
# the wall screen hangs in the center's room: its operators see it too
SITUATION_ROLES = OVERVIEW_ROLES | {R.OPERATOR}


@dataclass(frozen=True)
class Place:
    key: str
    label: str
    url_name: str

    @property
    def url(self) -> str:
        return reverse(self.url_name) if ":" in self.url_name else self.url_name


CONSOLE = Place("console", _("Консоль оператора"), "web:console")
WORK = Place("work", _("Исполнение"), "web:work")
SOCIAL = Place("social", _("Соцсети"), "web:social")
DISPATCH = Place("dispatch", _("Диспетчерская"), "web:dispatch-board")
OVERVIEW = Place("overview", _("Обзор"), "web:overview")
ANALYTICS = Place("analytics", _("Показатели"), "web:analytics")
SITUATION = Place("situation", _("Ситуационный центр"), "web:situation")
MY = Place("my", _("Мои обращения"), "web:my")
ADMIN = Place("admin", _("Администрирование"), "/admin/")


def may_open(user, place: Place) -> bool:
    if not user.is_authenticated:
        return False
    if place is CONSOLE:
        return user.has_role(*CONSOLE_ROLES)
    if place is WORK:
        return user.has_role(*WORK_ROLES)
    if place is SOCIAL:  # the moderators of social posts are the center's operators
        return user.has_role(*CONSOLE_ROLES)
    if place is DISPATCH:
        return dispatch_policies.may(user)
    if place is OVERVIEW:
        return user.has_role(*OVERVIEW_ROLES)
    if place is ANALYTICS:
        return user.has_role(*ANALYTICS_ROLES)
    if place is SITUATION:
        return user.has_role(*SITUATION_ROLES)
    if place is MY:
        return user.has_role(R.CITIZEN)
    if place is ADMIN:
        return user.is_staff
    return False


def places_of(user) -> list[Place]:
    """The places the user may open, in the order a working day needs them."""
    order = (CONSOLE, SOCIAL, WORK, DISPATCH, OVERVIEW, SITUATION, ANALYTICS, MY, ADMIN)
    if (
        user.is_authenticated
        and user.has_role(R.LEADERSHIP, R.ANALYST)
        and not user.has_role(R.OPERATOR, R.EXECUTOR, R.SUPERVISOR, R.DISPATCHER, R.ADMINISTRATOR)
    ):
        order = (
            OVERVIEW,
            SITUATION,
            ANALYTICS,
            DISPATCH,
        )  # leadership starts from the overview, then the live screens
    return [p for p in order if may_open(user, p)]


def landing(user) -> str | None:
    """Where the user's day starts: staff at their workspace, a resident at «мои обращения»; None for
    anybody else (the public home page)."""
    found = [p for p in places_of(user) if p is not ADMIN]
    return found[0].url if found else None
