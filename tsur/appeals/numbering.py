"""Registration numbers: issued at once, human-readable («26-0001234»), never reused.

On PostgreSQL a sequence hands out numbers without serialising registrations (a rolled-back
registration leaves a gap, which is fine: numbers must be unique, not dense). On SQLite, which
has one writer anyway, a counter row does the same inside the registration's transaction.
"""

from datetime import datetime

from django.db import connection
from django.db.models import F
from django.utils import timezone

SEQUENCE = "tsur_appeal_number_seq"


def next_value() -> int:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s)", [SEQUENCE])
            return cursor.fetchone()[0]
    from .models import NumberCounter

    counter, _ = NumberCounter.objects.get_or_create(key="appeal")
    NumberCounter.objects.filter(pk=counter.pk).update(value=F("value") + 1)
    return NumberCounter.objects.values_list("value", flat=True).get(pk=counter.pk)


def format_number(value: int, at: datetime) -> str:
    local = timezone.localtime(at)
    return f"{local:%y}-{value:07d}"


def issue(at: datetime) -> str:
    return format_number(next_value(), at)
