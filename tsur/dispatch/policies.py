"""Who may look at the engineering networks and who may act on their alarms and outages.

Objects are scoped by their owner organisation and their territory (`EngineeringObject.objects
.restrict(user, action)`); alarms and outages follow their object. Leadership may look; dispatchers
and administrators act. Anything outside one's scope answers 404."""

from tsur.core.choices import Role
from tsur.core.scopes import VIEW, scope_for

ACT = "act"
OBJECT_ROLES: dict[str, frozenset[str]] = {
    VIEW: frozenset({Role.DISPATCHER, Role.ADMINISTRATOR, Role.LEADERSHIP}),
    ACT: frozenset({Role.DISPATCHER, Role.ADMINISTRATOR}),
}


def may(user, action: str = VIEW) -> bool:
    """Whether any of the user's roles allows `action` on some engineering object."""
    return scope_for(user, OBJECT_ROLES[action]).is_staff
