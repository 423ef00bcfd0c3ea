"""Finding appeals by what a person types: a number, words of the text, an address.

On PostgreSQL the text is searched with its Russian full-text search (by stems: «протекает» finds
«протекала», «крыши» finds «крыша»), read from the GIN index on `DOCUMENT` (migration
appeals/0015): the appeals whose text matches are found in the index once, as a subquery, and the
rest of the conditions only look them up; elsewhere (SQLite) by substring. The full address,
with the flat, is searched only in appeals whose citizen's data the reader may see; elsewhere only
the house's address, so a flat number cannot be confirmed by searching for it (152-ФЗ).
"""

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connections
from django.db.models import Q

from tsur.core.models import Building

from .models import Appeal

MAX_QUERY = 200
# The text's Russian tsvector, exactly as the index appeal_text_search is built on it: another
# expression (another configuration, the text cast or concatenated) would not be read from the index.
DOCUMENT = SearchVector("text", config="russian")


def matching(queryset, value: str, reader):
    """`queryset` narrowed to what `value` finds for `reader` (None: nobody's personal data)."""
    value = (value or "").strip()[:MAX_QUERY]
    if not value:
        return queryset
    personal = Appeal.objects.restriction(reader, "see_personal_data")
    houses = Building.objects.filter(address__icontains=value).values("pk")
    where = Q(number=value) | Q(building__in=houses)
    if connections[queryset.db].vendor != "postgresql":
        return queryset.filter(where | (Q(address__icontains=value) & personal) | Q(text__icontains=value))
    # each set found once, from its own index (the houses' and the appeals' addresses by the trigram
    # indexes of migration appeals/0020, the text by its tsvector's), as subqueries the list's rows
    # are only looked up in
    addresses = Appeal.objects.filter(Q(address__icontains=value) & personal).values("pk")
    words = SearchQuery(value, config="russian", search_type="websearch")
    texts = Appeal.objects.annotate(document=DOCUMENT).filter(document=words).values("pk")
    return queryset.filter(where | Q(pk__in=addresses) | Q(pk__in=texts))
