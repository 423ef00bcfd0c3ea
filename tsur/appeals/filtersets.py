import django_filters
from django.db.models import Q

from tsur.core.models import Territory

from .choices import Channel, DeadlineState, Status
from .models import Appeal, ComplaintTicket


class AppealFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    channel = django_filters.MultipleChoiceFilter(choices=Channel.choices)
    deadline_state = django_filters.MultipleChoiceFilter(choices=DeadlineState.choices)
    topic = django_filters.CharFilter(field_name="topic__code")
    block = django_filters.CharFilter(field_name="topic__block__code")
    organisation = django_filters.NumberFilter(field_name="organisation_id")
    territory = django_filters.ModelChoiceFilter(
        queryset=Territory.objects.all(), method="filter_territory", label="Территория (с вложенными)"
    )
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
        return queryset.filter(territory__path__startswith=value.path) if value else queryset

    def search(self, queryset, name, value):
        value = value.strip()[:200]
        if not value:
            return queryset
        return queryset.filter(Q(number=value) | Q(text__icontains=value) | Q(address__icontains=value))


class ComplaintTicketFilterSet(django_filters.FilterSet):
    class Meta:
        model = ComplaintTicket
        fields = ["organisation", "number", "building"]
