"""Registration numbers: issued at once, human-readable («26-0001234»), never reused.

On PostgreSQL a sequence hands out numbers without serialising registrations (a rolled-back
registration leaves a gap, which is fine: numbers must be unique, not dense). Each process takes
them in blocks of RESERVED, so most registrations ask the database nothing for their number; as with
a sequence's own cache, numbers of registrations in different processes then interleave, and
those a stopped process had not used are never issued. On SQLite, which has one writer anyway, a
counter row does the same inside the registration's transaction.
"""

import os
import threading
from datetime import datetime

from django.db import connection
from django.db.models import F
from django.utils import timezone

from .models import NumberCounter

SEQUENCE = "tsur_appeal_number_seq"
RESERVED = 20

# (process id, the numbers of its block not issued yet, largest first): a child process forked from
# one holding a block has a copy of it and must not issue the same numbers, hence the id.
_block: tuple[int, list[int]] = (0, [])
_taking = threading.Lock()


def _after_fork() -> None:  # a child must not wait on a lock a thread of its parent held
    global _taking
    _taking = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


def next_value() -> int:
    global _block
    if connection.vendor == "postgresql":
        with _taking:  # threads of a process take numbers one at a time
            pid, left = _block
            if pid != os.getpid() or not left:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [SEQUENCE, RESERVED])
                    left = sorted((row[0] for row in cursor.fetchall()), reverse=True)
                _block = (os.getpid(), left)
            return left.pop()
    counter, _ = NumberCounter.objects.get_or_create(key="appeal")
    NumberCounter.objects.filter(pk=counter.pk).update(value=F("value") + 1)
    return NumberCounter.objects.values_list("value", flat=True).get(pk=counter.pk)


def format_number(value: int, at: datetime) -> str:
    local = timezone.localtime(at)
    return f"{local:%y}-{value:07d}"


def issue(at: datetime) -> str:
    return format_number(next_value(), at)
