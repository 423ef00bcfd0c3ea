"""Rate limits that do not take the service down with their store.

DRF keeps each client's request history in the cache, which is Redis in production. While Redis is
unreachable a limit cannot be counted; refusing the request (a 500 from the cache client, as it
was) stopped the portal's intake for as long as Redis was away. A limit that cannot be read lets the
request through and says so in the log: residents' appeals keep arriving, and what guards against
password guessing still stands (the sign-in lockout is counted in the database, decision 0008)."""

import logging

from redis.exceptions import RedisError
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

log = logging.getLogger(__name__)


class CountedWhenItCan:
    """A throttle that allows the request when its cache cannot be reached."""

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as error:
            log.warning("rate limit %s not counted, the cache is unreachable: %s", self.scope, error)
            return True


class AnonThrottle(CountedWhenItCan, AnonRateThrottle):
    """Limited per address for anonymous clients."""


class UserThrottle(CountedWhenItCan, UserRateThrottle):
    """Limited per account for those signed in, per address for the others."""


class PublicIntakeThrottle(AnonThrottle):
    """Anonymous intake is limited per address; systems and staff sign in and are not."""

    scope = "public_intake"


class PublicLookupThrottle(UserThrottle):
    """Lookups anybody may make, limited per address, and per account for those signed in."""

    scope = "public_lookup"


class StaffSuggestThrottle(UserThrottle):
    """Suggestions while a member of staff types (the hotline's address and topic): per account, and
    apart from the public lookups, so an operator typing fast does not run into the public limit."""

    scope = "staff_suggest"


def allowed(request, throttle_class) -> bool:
    """Whether a page (not an API view) may serve this request under the API's limit of that name;
    the same counters, so a client cannot double its allowance by switching between the two."""
    return throttle_class().allow_request(request, None)
