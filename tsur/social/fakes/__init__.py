"""Local fakes of the VK, Telegram and OK APIs, shipped with the project: small HTTP servers on a
free port that speak each network's wire format, hold posts and comments in memory, and answer a
rate limit, an expired token, a deleted post or a dropped connection when told to (`fail`). The
tests and `tsur social_simulate` run the connectors against them."""

from .base import FakeNetwork, FakeServer
from .ok import FakeOK
from .telegram import FakeTelegram
from .vk import FakeVK

__all__ = ["FakeNetwork", "FakeOK", "FakeServer", "FakeTelegram", "FakeVK"]
