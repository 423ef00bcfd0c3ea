"""Token authentication that does not ask the database on every request of a busy system.

An agency's system files appeals many times a second with the same token; the token and its user
are remembered in the process for `TTL_S` seconds. A token deleted or a user changed in this
process is forgotten at once (signals); in the other processes within `TTL_S`.
"""

import copy
import threading
import time

from django.db.models.signals import post_delete, post_save
from rest_framework.authentication import TokenAuthentication

TTL_S = 5.0
MAX_ENTRIES = 10_000
_known: dict[str, tuple[float, object, object]] = {}
_lock = threading.Lock()


def forget(**kwargs) -> None:
    with _lock:
        _known.clear()


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        now = time.monotonic()
        hit = _known.get(key)
        if hit is not None and now - hit[0] < TTL_S:
            _, user, token = hit
            return copy.copy(user), token  # a copy: per-request state must not travel between requests
        user, token = super().authenticate_credentials(key)  # refuses unknown keys and inactive users
        with _lock:
            if len(_known) >= MAX_ENTRIES:
                _known.clear()
            _known[key] = (now, user, token)
        return copy.copy(user), token


def connect() -> None:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    for model in (Token, get_user_model()):
        post_save.connect(forget, sender=model, dispatch_uid=f"token-cache-{model.__name__}-save")
        post_delete.connect(forget, sender=model, dispatch_uid=f"token-cache-{model.__name__}-delete")
