"""Residents sign in with a one-time code sent to their e-mail (decision 0014).

`send` mails a six-digit code; `redeem` checks what the resident typed and returns their account,
made at the first code that comes right. Whether an account exists for the address changes nothing
a visitor can see: every address gets a code, and the answers are the same.

Limits, all counted in the database and so shared by every process: a code lives
`SIGNIN_CODE_MINUTES` and takes `SIGNIN_CODE_ATTEMPTS` wrong tries; only the last code sent to an
address counts; an e-mail address may be sent `SIGNIN_CODES_PER_EMAIL` codes an hour, and one
client's address may ask for `SIGNIN_CODES_PER_ADDRESS`; a wrong code counts as a failed sign-in of
the account (tsur.core.signin), so codes and passwords share one lockout.
"""

import hmac
import logging
import math
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from . import accounts, signin
from .errors import DomainError
from .models import SignInCode, User

HOUR = timedelta(hours=1)
SUBJECT = "Код для входа в ЦУР"
MESSAGE = (
    "Здравствуйте!\n\n"
    "Ваш код для входа в личный кабинет ЦУР: {code}\n\n"
    "Код действует {minutes} минут. Никому его не сообщайте: сотрудники ЦУР его не спрашивают.\n"
    "Если вы не запрашивали код, просто удалите это письмо.\n"
)
log = logging.getLogger(__name__)


class CodeRefused(DomainError):
    """The code was not sent, or not accepted; `status_code` says which kind of refusal."""


class TooMany(CodeRefused):
    status_code = 429
    code = "throttled"


def _key(kind: str, value: str) -> str:
    return salted_hmac("tsur.core.codes", f"{kind}:{value}", algorithm="sha256").hexdigest()


def _digest(email_key: str, code: str) -> str:
    # keyed with the SECRET_KEY and bound to the address: a copy of the table cannot be tried offline
    return _key("code", f"{email_key}:{code}")


def _limits() -> dict:
    t = settings.TSUR
    return {
        "minutes": t["SIGNIN_CODE_MINUTES"],
        "attempts": t["SIGNIN_CODE_ATTEMPTS"],
        "per_email": t["SIGNIN_CODES_PER_EMAIL"],
        "per_address": t["SIGNIN_CODES_PER_ADDRESS"],
    }


def _wait(times: list, limit: int, now) -> int | None:
    """Seconds until the oldest of a limit's worth of recent codes leaves the hour."""
    if len(times) < limit:
        return None
    return max(1, math.ceil((sorted(times, reverse=True)[limit - 1] + HOUR - now).total_seconds()))


def send(email: str, address: str) -> None:
    """Mail a new code to `email` (a normalised address, accounts.normalise_email), asked for from the
    client's `address`; refused with TooMany past the hourly limits."""
    limits, now = _limits(), timezone.now()
    email_key = _key("email", email)
    address_key = _key("address", address) if address else ""
    SignInCode.objects.filter(created_at__lte=now - HOUR).delete()  # keeps the table to one hour
    recent = SignInCode.objects.filter(created_at__gt=now - HOUR)
    waits = [
        _wait(
            list(recent.filter(email_key=email_key).values_list("created_at", flat=True)),
            limits["per_email"],
            now,
        ),
        _wait(
            list(recent.filter(address_key=address_key).values_list("created_at", flat=True))
            if address_key
            else [],
            limits["per_address"],
            now,
        ),
    ]
    waits = [w for w in waits if w is not None]
    if waits:
        minutes = max(1, math.ceil(max(waits) / 60))
        raise TooMany(f"Слишком много запросов кода. Повторите через {minutes} мин.")
    code = f"{secrets.randbelow(10**6):06d}"
    SignInCode.objects.create(
        email_key=email_key,
        address_key=address_key,
        code_hash=_digest(email_key, code),
        created_at=now,
        expires_at=now + timedelta(minutes=limits["minutes"]),
    )
    try:
        send_mail(
            SUBJECT,
            MESSAGE.format(code=code, minutes=limits["minutes"]),
            settings.DEFAULT_FROM_EMAIL,
            [email],
        )
    except OSError as error:  # the mail server refused or is down: the code is of no use
        log.warning("sign-in code not sent: %s", error)
        raise CodeRefused("Не удалось отправить письмо с кодом. Повторите позже.") from error


def redeem(email: str, code: str, address: str) -> User:
    """The resident's account if `code` is the last code sent to `email` and still good; made now at
    the first sign-in. CodeRefused otherwise, saying how many tries are left."""
    limits, now = _limits(), timezone.now()
    name = accounts.signin_name(email)
    wait = signin.retry_after(name, address)
    if wait is not None:
        raise TooMany(signin.refusal(wait))
    email_key = _key("email", email)
    code = (code or "").strip().replace(" ", "") if isinstance(code, str) else ""
    with transaction.atomic():
        found = (
            SignInCode.objects.select_for_update()
            .filter(email_key=email_key, created_at__gt=now - HOUR)
            .order_by("-created_at", "-pk")
            .first()
        )
        if (
            found is None
            or found.used_at is not None
            or found.expires_at <= now
            or found.attempts >= limits["attempts"]
        ):
            raise CodeRefused("Код устарел или уже использован. Запросите новый код.", code="expired")
        right = len(code) == 6 and hmac.compare_digest(found.code_hash, _digest(email_key, code))
        if right:
            SignInCode.objects.filter(pk=found.pk).update(used_at=now)
            user = accounts.resident_for(email)
        else:
            SignInCode.objects.filter(pk=found.pk).update(attempts=F("attempts") + 1)
    # outside the transaction: a refusal must not roll back the count of tries
    if not right:
        signin.record_failure(name, address)
        left = limits["attempts"] - found.attempts - 1
        if left <= 0:
            raise CodeRefused("Неверный код. Попытки исчерпаны: запросите новый код.", code="expired")
        raise CodeRefused(f"Неверный код. Осталось попыток: {left}.", code="wrong")
    if not user.is_active:
        raise CodeRefused("Учётная запись отключена. Обратитесь в ЦУР.", code="inactive")
    signin.record_success(name)
    return user
