"""Token authentication that does not ask the database on every request of a busy system.

An agency's system files appeals many times a second with the same token; the token and its user
are remembered in the process for `TTL_S` seconds (tsur.core.memo). A token deleted or a user
changed in this process is forgotten at once (signals); in the other processes within `TTL_S`.
"""

import copy

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from tsur.core.memo import RememberedByKey

TTL_S = 5.0


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = known.get(key)
        return copy.copy(user), token  # a copy: per-request state must not travel between requests


def _read(key):
    # refuses unknown keys and inactive users (an error is not remembered: it is asked again)
    return TokenAuthentication().authenticate_credentials(key)


known = RememberedByKey(_read, TTL_S)
forget = known.forget


def connect() -> None:
    for model in (Token, get_user_model()):
        post_save.connect(known.changed, sender=model, dispatch_uid=f"token-cache-{model.__name__}-save")
        post_delete.connect(known.changed, sender=model, dispatch_uid=f"token-cache-{model.__name__}-delete")
