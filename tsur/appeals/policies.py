"""Who may take which step on an appeal, who may see the author's personal data, and what the
public may see.

Visibility comes first (`Appeal.objects.restrict(user)`): an appeal outside the user's scope is
simply not found. Here we decide, for a visible appeal, which of the user's roles allows an action.
Both read the same tables below through tsur.core.scopes.
"""

import re

from tsur.core.choices import Role
from tsur.core.models import User
from tsur.core.scopes import AUTHOR, Scope, scope_for

from .choices import Channel, Status
from .lifecycle import OPEN_STATUSES, permits

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
    # the region's check of an answer before the citizen sees it (a supervisor: in their organisation)
    "approve_answer": frozenset({R.OPERATOR, R.SUPERVISOR, R.ADMINISTRATOR}),
    "return_answer": frozenset({R.OPERATOR, R.SUPERVISOR, R.ADMINISTRATOR}),
    "set_priority": frozenset({R.OPERATOR, R.ADMINISTRATOR}),
    "redirect": frozenset({R.EXECUTOR, R.SUPERVISOR, R.OPERATOR, R.ADMINISTRATOR}),
    "extend": frozenset({R.SUPERVISOR, R.OPERATOR, R.ADMINISTRATOR}),
    # who in the organisation works on the appeal is the organisation's own matter
    "reassign": frozenset({R.SUPERVISOR, R.ADMINISTRATOR}),
    "citizen_reply": frozenset({AUTHOR, R.OPERATOR}),
    "close": frozenset({AUTHOR, R.OPERATOR, R.ADMINISTRATOR}),
    "reopen": frozenset({AUTHOR, R.OPERATOR, R.ADMINISTRATOR}),
    # the author on their page; the operator writes down a caller's mark at the hotline
    "rate": frozenset({AUTHOR, R.OPERATOR}),
    "add_photo": frozenset({AUTHOR, R.OPERATOR, R.EXECUTOR, R.SUPERVISOR, R.ADMINISTRATOR}),
    "comment": frozenset({AUTHOR, R.OPERATOR, R.ADMINISTRATOR}),
    # a caller with the same problem, added at the hotline (residents join on the portal themselves,
    # to published appeals only: actions.subscribe with no actor)
    "subscribe": frozenset({R.OPERATOR, R.ADMINISTRATOR}),
    # erasure on the citizen's request (152-ФЗ, art. 21): checked and done by an administrator
    "erase_personal_data": frozenset({R.ADMINISTRATOR}),
}
# The roles of the people an organisation's appeal may be given to (Appeal.assignee).
ASSIGNEE_ROLES = frozenset({R.EXECUTOR, R.SUPERVISOR})
# Roles that work with the citizen and so may see their name and contacts (152-ФЗ: need to know).
PERSONAL_DATA_ROLES = frozenset({R.OPERATOR, R.EXECUTOR, R.SUPERVISOR, R.ADMINISTRATOR})
# The management company's own people keep its complaint book.
TICKET_ROLES: dict[str, frozenset[str]] = {
    "file_ticket": frozenset({R.EXECUTOR, R.SUPERVISOR, R.ADMINISTRATOR}),
    "fulfil": frozenset({R.EXECUTOR, R.SUPERVISOR, R.ADMINISTRATOR}),
    "see_personal_data": PERSONAL_DATA_ROLES,
}
# What the public may see of the register: appeals an operator has accepted and not refused (and,
# to anyone, their own). A fresh appeal waits for moderation unseen; a refused one (spam, abuse,
# someone's personal story) is never published. Used by the REST API, Open311 and pages alike.
UNPUBLISHED_STATUSES = frozenset({Status.REGISTERED, Status.MODERATION, Status.REJECTED})
# Published and not finished: what the public map and the portal's figures count as «в работе».
OPEN_PUBLISHED_STATUSES = frozenset(OPEN_STATUSES - UNPUBLISHED_STATUSES)
# Channels where the citizen files the appeal themselves (the portal, the region's app, a civic app
# over Open311): the appeal is taken only with their consent to the processing of personal data.
CITIZEN_CHANNELS = frozenset({Channel.PORTAL, Channel.APP, Channel.OPEN311})


def _scope(user, roles: frozenset[str]) -> Scope:
    return scope_for(user, roles - {AUTHOR})


def _covers(user, roles: frozenset[str], appeal) -> bool:
    """Whether one of `roles` the user holds reaches this appeal (through its own scope, or as its
    author when AUTHOR is among them)."""
    if not user.is_authenticated:
        return False
    if AUTHOR in roles and appeal.author_id and appeal.author_id == user.pk:
        return True
    return _scope(user, roles).covers(
        organisation=appeal.organisation if appeal.organisation_id else None,
        territory=appeal.territory if appeal.territory_id else None,
    )


def can(user, action: str, appeal) -> bool:
    return _covers(user, ACTION_ROLES[action], appeal)


def can_with_key(action: str) -> bool:
    """Whether the author's private link (tsur.appeals.access) allows this step. Whoever holds the key
    stands for the appeal's author, with or without an account: the steps whose roles include AUTHOR,
    no other. The interface checks the key itself (`access.opens`) before asking."""
    return AUTHOR in ACTION_ROLES[action]


def allowed_actions(user, appeal) -> list[str]:
    return [a for a in ACTION_ROLES if permits(a, appeal) and can(user, a, appeal)]


def assignable(organisation):
    """The people an appeal of `organisation` may be given to: active users with an executor or
    supervisor role at it or at an organisation above it, that is, whose scope reaches its appeals
    (a role at a subordinate organisation does not)."""
    above = [int(pk) for pk in organisation.path.strip("/").split("/") if pk] or [organisation.pk]
    return (
        User.objects.filter(
            is_active=True, assignments__role__in=ASSIGNEE_ROLES, assignments__organisation__in=above
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def is_staff(user) -> bool:
    """Whether any staff role of the user reaches beyond their own appeals."""
    return scope_for(user).is_staff


def is_administrator(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_role(R.ADMINISTRATOR))


def can_see_personal_data(user, appeal) -> bool:
    return _covers(user, PERSONAL_DATA_ROLES | {AUTHOR}, appeal)


def can_keep_book(user, action: str, organisation) -> bool:
    """Whether the user may take `action` in the complaint book of this management company."""
    return user.is_authenticated and _scope(user, TICKET_ROLES[action]).covers(organisation=organisation)


def can_see_ticket_personal_data(user, ticket) -> bool:
    """The complaint book's resident contacts: the company's own staff, operators and administrators."""
    return user.is_authenticated and _scope(user, PERSONAL_DATA_ROLES).covers(
        organisation=ticket.organisation
    )


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


def shown_address(user, appeal) -> str:
    return appeal.address if can_see_personal_data(user, appeal) else public_address(appeal.address)


# What the author's name becomes in text read by anyone but the author and the staff with the right.
NEUTRAL_NAME = "заявитель"


def without_author_name(appeal, text: str) -> str:
    """`text` with the author's name taken out, for readers who may not know it: residents who joined
    the appeal, Open311 clients, the mail to anyone but the author. An executor's answer often greets
    the author by name (an answer template's {имя}); the words reach them all. The whole name, any run
    of its words («Иван Петрович» of «Сидоров Иван Петрович») and each word of it are replaced."""
    words = (getattr(appeal, "author_name", "") or "").split()
    if not text or not words:
        return text
    runs = {" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)}
    runs = sorted((r for r in runs if len(r) >= 2), key=len, reverse=True)  # longest first
    pattern = r"(?<!\w)(?:" + "|".join(r"\s+".join(map(re.escape, r.split())) for r in runs) + r")(?!\w)"
    return re.sub(pattern, NEUTRAL_NAME, text, flags=re.IGNORECASE)
