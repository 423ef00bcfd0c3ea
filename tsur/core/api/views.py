import django_filters
from rest_framework import permissions, viewsets

from tsur.core.api.filters import FilterSet
from tsur.core.models import Building, Organisation, Territory

from .serializers import BuildingSerializer, OrganisationSerializer, TerritorySerializer


class TerritoryFilterSet(FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Territory
        fields = ["kind", "parent", "q"]


class TerritoryViewSet(viewsets.ReadOnlyModelViewSet):
    """Territories of the region (public reference data)."""

    queryset = Territory.objects.all()
    serializer_class = TerritorySerializer
    permission_classes = [permissions.AllowAny]
    filterset_class = TerritoryFilterSet


class OrganisationFilterSet(FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Organisation
        fields = ["kind", "parent", "territories", "is_active", "q"]


class OrganisationViewSet(viewsets.ReadOnlyModelViewSet):
    """Organisations that answer appeals (public reference data)."""

    queryset = Organisation.objects.prefetch_related("territories")
    serializer_class = OrganisationSerializer
    permission_classes = [permissions.AllowAny]
    filterset_class = OrganisationFilterSet


class BuildingFilterSet(FilterSet):
    q = django_filters.CharFilter(field_name="address", lookup_expr="icontains")

    class Meta:
        model = Building
        fields = ["territory", "management_company", "kind", "q"]


class BuildingViewSet(viewsets.ReadOnlyModelViewSet):
    """Buildings and other addressable places (public reference data)."""

    queryset = Building.objects.all()
    serializer_class = BuildingSerializer
    permission_classes = [permissions.AllowAny]
    filterset_class = BuildingFilterSet
