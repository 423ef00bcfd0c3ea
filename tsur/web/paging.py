"""Paging a long list without counting all of it.

Django's paginator counts every row the list holds («найдено N», «страница n из m») and then reads
the page: two passes over what the filters and the search select. The console's «весь реестр», or a
search for a common word, holds tens of thousands of appeals, and that count cost more than the page
itself. `CappedPaginator` reads, in the list's order, the ids of at most `cap` rows (or up to the page
after the one asked for, when that is further), which gives both the count and the page's ids in one
pass that stops early; the page's rows are then read by their ids. A longer list reads «более 1 000»
and its pager «из более чем 40», and one can page on as far as one likes (decision 0024)."""

from functools import cached_property

from django.core.paginator import Paginator

CAP = 1000


class CappedPaginator(Paginator):
    def __init__(self, object_list, per_page, *, asked=None, cap: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        try:
            asked = max(1, int(asked))
        except (TypeError, ValueError):
            asked = 1
        # enough to know the page asked for exists and whether another follows it
        self.limit = max(CAP if cap is None else cap, (asked + 1) * per_page)

    @cached_property
    def _ids(self) -> list:
        return list(self.object_list.values_list("pk", flat=True)[: self.limit + 1])

    @cached_property
    def count(self) -> int:
        return min(len(self._ids), self.limit)

    @property
    def more(self) -> bool:
        """Whether the list holds more than was counted."""
        return len(self._ids) > self.limit

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        ids = self._ids[bottom : min(bottom + self.per_page, self.count)]
        # the ids came from the list's own query (its filters, search and scope): read them alone
        found = self.object_list.model._base_manager.filter(pk__in=ids)
        found.query.select_related = self.object_list.query.select_related
        rows = {row.pk: row for row in found}
        # in the list's order; a row gone since its id was read is left out
        return self._get_page([rows[pk] for pk in ids if pk in rows], number, self)
