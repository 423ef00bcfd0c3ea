"""What a process reads from the database once and keeps for a few seconds.

Reference data every request asks for (the routing table, the rubricator) is read once per process
and kept `ttl` seconds. `changed` is connected to the signals of the models it is read from: the
process that saves a change sees it at once, the others within `ttl`.

Two things could otherwise keep a stale value for the whole `ttl`: a thread that started reading
before a change and stores what it read after the change was forgotten, and a thread of another
request that reads between a save and its commit. So every change moves a generation counter
(once at once, once more when the saving transaction commits), and a value is kept with the
generation it was read in: if the counter moved meanwhile, the next reader reads again.
"""

import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.db import transaction

T = TypeVar("T")
K = TypeVar("K")


class Remembered(Generic[T]):
    def __init__(self, load: Callable[[], T], ttl: float):
        self._load, self.ttl = load, ttl
        self._generation = 0
        self._kept: tuple[T | None, float, int] = (None, 0.0, -1)  # value, read at, its generation

    def get(self) -> T:
        value, read_at, generation = self._kept
        if generation != self._generation or time.monotonic() - read_at >= self.ttl:
            seen = self._generation
            value = self._load()
            self._kept = (value, time.monotonic(), seen)  # if a change came meanwhile, read again next time
        return value

    def forget(self) -> None:
        """Read again on the next `get`."""
        self._generation += 1

    def changed(self, *args, using: str | None = None, **kwargs) -> None:
        """A receiver for the signals of the models this is read from: read again now, and once more
        when the change is committed."""
        self.forget()
        transaction.on_commit(self.forget, using=using)


class RememberedByKey(Generic[K, T]):
    """Like `Remembered`, for values read per key (a user's roles, a token, a district's name): each
    kept `ttl` seconds with the generation it was read in; a change forgets them all. At most
    `max_items` are kept, so a process that meets many keys does not grow without bound."""

    def __init__(self, load: Callable[[K], T], ttl: float, max_items: int = 10_000):
        self._load, self.ttl, self.max_items = load, ttl, max_items
        self._generation = 0
        self._kept: dict[K, tuple[T, float, int]] = {}

    def get(self, key: K) -> T:
        hit = self._kept.get(key)
        if hit is not None and hit[2] == self._generation and time.monotonic() - hit[1] < self.ttl:
            return hit[0]
        seen = self._generation
        value = self._load(key)
        if len(self._kept) >= self.max_items:
            self._kept = {}  # a new dict: a thread iterating the old one is not disturbed
        self._kept[key] = (value, time.monotonic(), seen)
        return value

    def forget(self, *args, **kwargs) -> None:
        """Read every key again on its next `get`."""
        self._generation += 1
        self._kept = {}

    def changed(self, *args, using: str | None = None, **kwargs) -> None:
        """A receiver for the signals of the models the values are read from."""
        self.forget()
        transaction.on_commit(self.forget, using=using)
