"""Who may take which step on an appeal they can see, and who may see the author's personal data.

Visibility comes first (tsur.appeals.selectors): an appeal outside the user's scope is simply not
found. Here we decide, for a visible appeal, which of the user's roles allows an action.
"""

import re

from tsur.core.choices import Role
from tsur.core.scopes import scope_for

from .models import Appeal

AUTHOR = "author"
R = Role
ACTION_ROLES: dict[str, frozenset[str]] = {
    "send_to_moderation": frozenset({R.OPERATOR, R.ADMINISTRATOR}),
    "assign": frozenset({R.OPERATOR, R.ADMINISTRATOR}),
    "reject": frozenset({R.OPERATOR, R.ADMINISTRATOR}),
    "merge": frozenset({R.OPERATOR, R.ADMINISTRATOR}),
    "take": frozenset({R.EXECUTOR, R.SUPERVISOR, R.ADMINISTRATOR}),
    "request_clarification": frozenset({R.EXECUTOR, R.SUPERVISOR, R.OPERATOR, R.ADMINISTRATOR}),
    "interim_answer": frozenset({R.EXECUTOR, R.SUPERVISOR, R.ADMINISTRATOR}),
    "answer": frozenset({R.EXECUTOR, R.SUPERVISOR, R.ADMINISTRATOR}),
    "redirect": frozenset({R.EXECUTOR, R.SUPERVISOR, R.OPERATOR, R.ADMINISTRATOR}),
    "extend": frozenset({R.SUPERVISOR, R.OPERATOR, R.ADMINISTRATOR}),
    "citizen_reply": frozenset({AUTHOR, R.OPERATOR}),
    "close": frozenset({AUTHOR, R.OPERATOR, R.ADMINISTRATOR}),
    "reopen": frozenset({AUTHOR, R.OPERATOR, R.ADMINISTRATOR}),
    "add_photo": frozenset({AUTHOR, R.OPERATOR, R.EXECUTOR, R.SUPERVISOR, R.ADMINISTRATOR}),
    "comment": frozenset({AUTHOR, R.OPERATOR, R.ADMINISTRATOR}),
}
# Roles that work with the citizen and so may see their name and contacts (152-ФЗ: need to know).
PERSONAL_DATA_ROLES = frozenset({R.OPERATOR, R.EXECUTOR, R.SUPERVISOR, R.ADMINISTRATOR})


def _covers(user, roles: frozenset[str], appeal: Appeal) -> bool:
    """Whether one of `roles` the user holds reaches this appeal through its own scope."""
    if not user.is_authenticated:
        return False
    scope = scope_for(user, roles=roles)
    if scope.region:
        return True
    org_path = appeal.organisation.path if appeal.organisation_id else None
    territory_path = appeal.territory.path if appeal.territory_id else None
    return any(org_path and org_path.startswith(p) for p in scope.organisation_paths) or any(
        territory_path and territory_path.startswith(p) for p in scope.territory_paths
    )


def can(user, action: str, appeal: Appeal) -> bool:
    allowed = ACTION_ROLES[action]
    if AUTHOR in allowed and appeal.author_id and appeal.author_id == user.pk:
        return True
    return _covers(user, allowed - {AUTHOR}, appeal)


def allowed_actions(user, appeal: Appeal) -> list[str]:
    from .actions import ALLOWED_FROM

    return [
        a
        for a in ACTION_ROLES
        if (a not in ALLOWED_FROM or appeal.status in ALLOWED_FROM[a]) and can(user, a, appeal)
    ]


def can_see_personal_data(user, appeal: Appeal) -> bool:
    if appeal.author_id and appeal.author_id == user.pk:
        return True
    return _covers(user, PERSONAL_DATA_ROLES, appeal)


# A flat, room, office or premises number: with it an address points at a household (152-ФЗ).
FLAT = re.compile(
    r"[,;]?\s*(?<!\w)"
    r"(?:кв(?:-ра|артира|арт)?|комн(?:ата)?|ком|пом(?:ещ(?:ение)?)?|оф(?:ис)?|ап(?:арт(?:аменты)?)?|каб(?:инет)?)"
    r"(?![а-яё])\.?\s*(?:№|N)?\s*(?:\d[\w/-]*|[НH]-?\d[\w/-]*|[IVXLC]+(?!\w))",
    re.IGNORECASE,
)
DIGIT = re.compile(r"\d")


def public_address(address: str) -> str:
    """The address without a flat, room or office number: the house, which is what a neighbour, an
    analyst or a dispatcher needs, not the household. Only what follows a house number is taken
    away («кв. 5» before it is a quarter of some towns)."""

    def cut(match: re.Match) -> str:
        return "" if DIGIT.search(address, 0, match.start()) else match.group(0)

    return FLAT.sub(cut, address).strip(" ,;")


def shown_address(user, appeal: Appeal) -> str:
    return appeal.address if can_see_personal_data(user, appeal) else public_address(appeal.address)


def can_see_ticket_personal_data(user, ticket) -> bool:
    """The complaint book's resident contacts: the company's own staff, operators and administrators."""
    if not user.is_authenticated:
        return False
    scope = scope_for(user, roles=PERSONAL_DATA_ROLES)
    return scope.region or any(ticket.organisation.path.startswith(p) for p in scope.organisation_paths)
