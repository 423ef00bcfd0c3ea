"""Residents' accounts: found by their e-mail, made at their first sign-in, given a password.

A resident's account holds the citizen role and nothing else: a code sent by e-mail never signs in an
account with a staff role (staff sign in by login and password), and an account made here is never
staff. Its username is the e-mail, lower case (or the e-mail with a number when that name is taken).
"""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from .choices import Role
from .errors import DomainError
from .models import RoleAssignment, User

# a username holds at most 150 characters, and the e-mail is the username
EMAIL_MAX = 150


def normalise_email(value) -> str:
    """The e-mail as the platform keys it (lower case, without blanks); a clear refusal when it is
    not one."""
    email = (value or "").strip().lower() if isinstance(value, str) else ""
    if len(email) > EMAIL_MAX:
        raise DomainError(f"Адрес длиннее {EMAIL_MAX} символов.", field="email")
    try:
        validate_email(email)
    except ValidationError as error:
        raise DomainError("Введите правильный адрес электронной почты.", field="email") from error
    return email


def is_resident(user) -> bool:
    """Whether the account is a resident's: the citizen role, no other, no staff flag."""
    roles = {a.role for a in user.role_assignments()}
    return roles == {Role.CITIZEN} and not (user.is_staff or user.is_superuser)


def resident(email: str) -> User | None:
    """The resident's account with this e-mail (the earliest, should there be several), active or not."""
    found = User.objects.filter(email__iexact=email, assignments__role=Role.CITIZEN).order_by("pk")
    return next((user for user in found if is_resident(user)), None)


def signin_name(email: str) -> str:
    """The name sign-in attempts for this e-mail are counted under (tsur.core.signin): the resident's
    username, or the e-mail itself while there is no account, so that a password and a code share
    one lockout."""
    account = resident(email)
    return account.username if account is not None else email


def _free_username(email: str) -> str:
    name, n = email, 1
    while User.objects.filter(username__iexact=name).exists():
        n += 1
        suffix = f"-{n}"
        name = email[: EMAIL_MAX - len(suffix)] + suffix
    return name


@transaction.atomic
def resident_for(email: str) -> User:
    """The resident's account with this e-mail, made now if there is none (no password: they sign
    in with codes until they set one)."""
    account = resident(email)
    if account is not None:
        return account
    user = User.objects.create_user(username=_free_username(email), email=email)
    RoleAssignment.objects.create(user=user, role=Role.CITIZEN)
    return user


def set_password(user: User, password: str) -> None:
    """A new password for the account, checked by the platform's password validators."""
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise DomainError(" ".join(error.messages), field="password") from error
    user.set_password(password)
    user.save(update_fields=["password"])
