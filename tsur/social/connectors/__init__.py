"""Connectors to the networks behind one interface (`base.Connector`): read new posts and comments
since a cursor, post a reply. `for_source` builds the one a Source needs, with its base URL (the
setting's unless the source names one) and its token from the environment."""

import os

from django.conf import settings

from ..choices import Network
from .base import (
    Batch,
    Connector,
    ConnectorError,
    Item,
    NetworkDown,
    PostDeleted,
    RateLimited,
    Refused,
    Target,
    TokenExpired,
)
from .ok import OKConnector
from .telegram import TelegramConnector
from .vk import VKConnector

CONNECTORS = {Network.VK: VKConnector, Network.TELEGRAM: TelegramConnector, Network.OK: OKConnector}


def for_source(source) -> Connector:
    """The connector of a Source; the token is read from the variable the source names, never stored."""
    token = os.environ.get(source.token_env, "") if source.token_env else ""
    base_url = source.base_url or settings.SOCIAL["BASE_URLS"][source.network]
    return CONNECTORS[source.network](
        base_url=base_url,
        token=token,
        account=source.account,
        communities=list(source.communities or []),
        keywords=list(source.watchlist.keywords or []) if source.search else [],
        requests_per_second=source.requests_per_second,
    )


__all__ = [
    "Batch",
    "Connector",
    "ConnectorError",
    "Item",
    "NetworkDown",
    "PostDeleted",
    "RateLimited",
    "Refused",
    "Target",
    "TokenExpired",
    "for_source",
]
