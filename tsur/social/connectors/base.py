"""What every connector shares: the shape of a found item, the errors a network answers with, the
request pacing (a minimum interval per source) and the retries with exponential back-off."""

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

import requests
from django.conf import settings

log = logging.getLogger(__name__)


class ConnectorError(Exception):
    """The network did not do what was asked."""


class RateLimited(ConnectorError):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class TokenExpired(ConnectorError):
    """The token is wrong or expired: nothing works until the region sets a new one."""


class PostDeleted(ConnectorError):
    """The post (or message) answered to is gone."""


class Refused(ConnectorError):
    """The network refused the request for good (comments closed, no right to post, a bad request)."""


class NetworkDown(ConnectorError):
    """No answer, or a server error: worth trying again later."""


RETRYABLE = (RateLimited, NetworkDown)
MAX_WAIT_SECONDS = 30


@dataclass
class Item:
    """A post or comment as any network gives it, before it is stored."""

    external_id: str
    text: str
    posted_at: datetime
    kind: str = "post"  # or "comment"
    community: str = ""
    author_handle: str = ""
    author_name: str = ""
    link: str = ""
    parent_id: str = ""  # a comment's post (external id)
    reply_to: str = ""  # what a comment answers (external id of a comment or message)
    edited_at: datetime | None = None
    repost_of: str = ""
    raw: dict = field(default_factory=dict)


@dataclass
class Batch:
    items: list[Item]
    cursor: dict


@dataclass(frozen=True)
class Target:
    """Where a reply goes: the post's id, its community, and (for a comment) what it answers."""

    external_id: str
    community: str = ""
    parent_id: str = ""


class Connector:
    """One network's API. `fetch` reads what is new since the cursor (and the comments of the
    threads to follow); `reply` answers under a post from the official account and returns the
    reply's id. Both raise the errors above after the retries are spent."""

    network = ""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        account: str = "",
        communities=(),
        keywords=(),
        requests_per_second: float = 3.0,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.account = account
        self.communities = list(communities)
        self.keywords = list(keywords)
        self.interval = 1.0 / requests_per_second if requests_per_second > 0 else 0.0
        self.session = session or requests.Session()
        self._last_request = 0.0
        self._lock = threading.Lock()
        config = settings.SOCIAL
        self.timeout = config["TIMEOUT_SECONDS"]
        self.retries = config["RETRIES"]
        self.backoff = config["BACKOFF_SECONDS"]
        self.sleep = time.sleep  # the back-off's waits (a test counts them instead)

    def fetch(self, cursor: dict, follow: list[Target] = ()) -> Batch:
        raise NotImplementedError

    def reply(self, target: Target, text: str) -> str:
        raise NotImplementedError

    # -- requests ---------------------------------------------------------------------------------

    def _pace(self) -> None:
        """Keep the source's rate: no two requests closer than its interval."""
        with self._lock:
            wait = self._last_request + self.interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last_request = time.monotonic()

    def call(self, attempt_once) -> dict:
        """Run one request with the retries: a rate-limit answer or a network error waits
        `backoff · 2^n` seconds (or what the network asked), up to `retries` times."""
        for attempt in range(self.retries + 1):
            try:
                self._pace()
                return attempt_once()
            except RETRYABLE as error:
                if attempt == self.retries:
                    raise
                wait = self.backoff * (2**attempt)
                if isinstance(error, RateLimited) and error.retry_after:
                    if error.retry_after > MAX_WAIT_SECONDS:
                        raise  # the source as a whole waits (polling's back-off), not this thread
                    wait = max(wait, error.retry_after)  # the network's terms: never sooner than asked
                log.info("%s: %s, retry in %.2fs", self.network, error, wait)
                self.sleep(wait)
        raise AssertionError("unreachable")

    def http(self, method: str, url: str, **kwargs) -> requests.Response:
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as error:
            raise NetworkDown(f"{type(error).__name__}: {error}") from error
        if response.status_code >= 500:
            raise NetworkDown(f"HTTP {response.status_code}")
        return response

    @staticmethod
    def json_of(response: requests.Response) -> dict:
        try:
            return response.json()
        except ValueError as error:
            raise NetworkDown(f"not JSON (HTTP {response.status_code})") from error
