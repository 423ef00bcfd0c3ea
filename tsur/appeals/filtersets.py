import django_filters

from tsur.core.api.filters import FilterSet, IdFilter
from tsur.core.models import Territory

from . import search
from .choices import Channel, DeadlineState, Status
from .models import Appeal, ComplaintTicket


class AppealFilterSet(FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    channel = django_filters.MultipleChoiceFilter(choices=Channel.choices)
    deadline_state = django_filters.MultipleChoiceFilter(choices=DeadlineState.choices)
    topic = django_filters.CharFilter(field_name="topic__code")
    block = django_filters.CharFilter(field_name="topic__block__code")
    organisation = IdFilter(field_name="organisation_id")
    territory = IdFilter(method="filter_territory", label="Территория (с вложенными)")
    registered_after = django_filters.IsoDateTimeFilter(field_name="registered_at", lookup_expr="gte")
    registered_before = django_filters.IsoDateTimeFilter(field_name="registered_at", lookup_expr="lt")
    q = django_filters.CharFilter(method="search", label="Поиск по номеру, тексту и адресу")

    class Meta:
        model = Appeal
        fields = [
            "status",
            "channel",
            "deadline_state",
            "topic",
            "block",
            "organisation",
            "territory",
            "priority",
        ]

    def filter_territory(self, queryset, name, value):
        territory = Territory.objects.filter(pk=value).first()
        return queryset.filter(territory__path__startswith=territory.path) if territory else queryset.none()

    def search(self, queryset, name, value):
        """Number, text and address (tsur.appeals.search: the flat only where the reader may see
        the citizen's data)."""
        reader = getattr(self.request, "user", None)  # none outside a request: nobody's data
        return search.matching(queryset, value, reader)


class ComplaintTicketFilterSet(FilterSet):
    class Meta:
        model = ComplaintTicket
        fields = ["organisation", "number", "building"]
