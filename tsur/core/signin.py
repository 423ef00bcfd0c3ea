"""Password guessing: failed sign-ins counted per account and per client address, in the database.

Every password check (the sign-in page, the admin's, the API's token endpoint, anything that calls
`django.contrib.auth.authenticate`) goes through `LockoutBackend`: past `SIGNIN_FAILURES_PER_ACCOUNT`
failures for an account, or `SIGNIN_FAILURES_PER_ADDRESS` from an address, within
`SIGNIN_WINDOW_MINUTES`, the attempt is refused even with the right password until the oldest of those
failures leaves the window; a success clears the account's count (not the address's, or an attacker
with one account of their own could clear it between guesses).

The count lives in the database, not in the cache: the embedded default has a per-process cache and
gunicorn runs several processes, each of which would allow the whole limit (decision 0008).
"""

import math
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.crypto import salted_hmac
from rest_framework.throttling import BaseThrottle

from .models import SignInFailure, User

REFUSAL = "Слишком много неудачных попыток входа. Повторите через {minutes} мин."


def client_address(request) -> str:
    """The client's address as the API's rate limits see it (REMOTE_ADDR, or X-Forwarded-For behind
    NUM_PROXIES trusted proxies); "" without a request."""
    if request is None:
        return ""
    return BaseThrottle().get_ident(request) or ""


def _key(kind: str, value: str) -> str:
    return salted_hmac("tsur.core.signin", f"{kind}:{value}", algorithm="sha256").hexdigest()


def _keys(username: str, address: str) -> list[tuple[str, int]]:
    """The keys an attempt counts against, each with its limit."""
    # the same account however its name is typed: the limit must not multiply by spellings
    keys = [(_key("account", username.strip().lower()[:150]), settings.TSUR["SIGNIN_FAILURES_PER_ACCOUNT"])]
    if address:
        keys.append((_key("address", address), settings.TSUR["SIGNIN_FAILURES_PER_ADDRESS"]))
    return keys


def _window() -> timedelta:
    return timedelta(minutes=settings.TSUR["SIGNIN_WINDOW_MINUTES"])


def retry_after(username: str, address: str) -> int | None:
    """Seconds until this account may try again from this address, or None if it may now."""
    return _wait(_keys(username, address))


def guesses_refused(kind: str, address: str, limit: int) -> int | None:
    """Seconds until a client's address may guess again at something else than a password (`kind`:
    the key of an author's private link), or None if it may now; counted as sign-ins are."""
    return _wait([(_key(kind, address), limit)]) if address else None


def record_guess(kind: str, address: str) -> None:
    if address:
        _store([_key(kind, address)])


def _wait(keys: list[tuple[str, int]]) -> int | None:
    now, window = timezone.now(), _window()
    failures: dict[str, list] = {key: [] for key, _ in keys}
    # at most a limit's worth of rows per key: failures are recorded only while not locked out
    for key, at in (
        SignInFailure.objects.filter(key__in=list(failures), at__gt=now - window)
        .order_by("-at")
        .values_list("key", "at")
    ):
        failures[key].append(at)
    waits = [
        (failures[key][limit - 1] + window - now).total_seconds()
        for key, limit in keys
        if len(failures[key]) >= limit
    ]
    return max(1, math.ceil(max(waits))) if waits else None


def refusal(seconds: int) -> str:
    return REFUSAL.format(minutes=max(1, math.ceil(seconds / 60)))


def record_failure(username: str, address: str) -> None:
    _store([key for key, _ in _keys(username, address)])


def _store(keys: list[str]) -> None:
    now = timezone.now()
    SignInFailure.objects.filter(at__lte=now - _window()).delete()  # keeps the table to one window
    SignInFailure.objects.bulk_create([SignInFailure(key=key, at=now) for key in keys])


def record_success(username: str) -> None:
    SignInFailure.objects.filter(key=_keys(username, "")[0][0]).delete()


class LockoutBackend(ModelBackend):
    """Django's own password check, refused while the account or the address is locked out."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if not isinstance(username, str) or password is None:
            return None
        address = client_address(request)
        wait = retry_after(username, address)
        if wait is not None:
            # PermissionDenied stops `authenticate` from asking any other backend
            raise PermissionDenied(refusal(wait))
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            record_failure(username, address)
        else:
            record_success(username)
        return user
