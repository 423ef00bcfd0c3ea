"""Finding appeals by what a person types: a number, words of the text, an address.

On PostgreSQL the text is searched with its Russian full-text search (by stems: «протекает» finds
«протекала», «крыши» finds «крыша»); elsewhere (SQLite) by substring. The full address,
with the flat, is searched only in appeals whose citizen's data the reader may see; elsewhere only
the house's address, so a flat number cannot be confirmed by searching for it (152-ФЗ).
"""

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connections
from django.db.models import Q

from .models import Appeal

MAX_QUERY = 200


def matching(queryset, value: str, reader):
    """`queryset` narrowed to what `value` finds for `reader` (None: nobody's personal data)."""
    value = (value or "").strip()[:MAX_QUERY]
    if not value:
        return queryset
    personal = Appeal.objects.restriction(reader, "see_personal_data")
    where = Q(number=value) | Q(building__address__icontains=value) | (Q(address__icontains=value) & personal)
    if connections[queryset.db].vendor == "postgresql":
        queryset = queryset.annotate(search_document=SearchVector("text", config="russian"))
        where |= Q(search_document=SearchQuery(value, config="russian", search_type="websearch"))
    else:
        where |= Q(text__icontains=value)
    return queryset.filter(where)
