"""Finding appeals by what a person types: a number, words of the text, an address.

On PostgreSQL the text is searched with its Russian full-text search (by stems: «протекает» finds
«протекала», «крыши» finds «крыша»), on the stored tsvector `search_document` and its GIN index
(migration appeals/0022); elsewhere (SQLite) by substring. Every condition is one the planner can
read from an index (the number's, the houses' and the appeals' addresses' trigram indexes of
migration appeals/0020, the words'), joined by OR in the list's own query: for rare words it reads
the few matches from the indexes, for common ones it walks the list in its order and stops after a
page, testing each row's stored words. The full address, with the flat, is searched only in appeals
whose citizen's data the reader may see; elsewhere only the house's address, so a flat number
cannot be confirmed by searching for it (152-ФЗ).
"""

from django.db import connections
from django.db.models import BooleanField, Expression, F, Q

from tsur.core.memo import RememberedByKey
from tsur.core.models import Building

from .models import Appeal

MAX_QUERY = 200
MAX_HOUSES = 500  # more houses match only words found in most addresses («проспект»): kept as a subquery
HOUSES_TTL_S = 60.0
COLUMN = "search_document"  # PostgreSQL only, outside the model's state (migration appeals/0022)


class WordsMatch(Expression):
    """`search_document @@ websearch_to_tsquery('russian', value)` of the queryset's own appeals row
    (PostgreSQL): a condition for `filter` and `Q`."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, value: str):
        super().__init__()
        self.value = value
        self.row = F("pk")

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        resolved = self.copy()
        resolved.row = self.row.resolve_expression(query, allow_joins, reuse, summarize, for_save)
        return resolved

    def as_sql(self, compiler, connection):
        table = compiler.quote_name_unless_alias(self.row.alias)
        return f"{table}.{COLUMN} @@ websearch_to_tsquery('russian'::regconfig, %s)", [self.value]


def houses_matching(value: str):
    """The buildings of the register whose address contains `value` (their trigram index on
    PostgreSQL)."""
    return Building.objects.filter(address__icontains=value).order_by().values("pk")


def _house_ids(value: str) -> tuple[int, ...] | None:
    found = tuple(houses_matching(value).values_list("pk", flat=True)[: MAX_HOUSES + 1])
    return None if len(found) > MAX_HOUSES else found


# The houses an address typed into the search names: the building register is reference data,
# remembered per typed value for a minute (a building saved in this process is seen at once,
# apps.py), as the selects' options are (decision 0024): the register's own index costs more than
# the rest of a search on a city's 8,500 houses (a sequential read of their upper-cased addresses).
HOUSES = RememberedByKey(_house_ids, HOUSES_TTL_S, max_items=1_000)


def matching(queryset, value: str, reader):
    """`queryset` narrowed to what `value` finds for `reader` (None: nobody's personal data)."""
    value = (value or "").strip()[:MAX_QUERY]
    if not value:
        return queryset
    personal = Appeal.objects.restriction(reader, "see_personal_data")
    houses = houses_matching(value)
    if connections[queryset.db].vendor != "postgresql":
        return queryset.filter(
            Q(number=value)
            | Q(building__in=houses)
            | (Q(address__icontains=value) & personal)
            | Q(text__icontains=value)
        )
    # the houses first, as a list of ids: a subquery in an OR is a filter tested on every row walked,
    # a list lets the planner read the appeals of those houses from their index
    found = HOUSES.get(value.upper())
    by_house = Q(building__in=houses) if found is None else Q(building__in=found)
    return queryset.filter(
        Q(number=value) | by_house | (Q(address__icontains=value) & personal) | WordsMatch(value)
    )
