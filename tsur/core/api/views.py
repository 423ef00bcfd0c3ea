import django_filters
from rest_framework import permissions, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled
from rest_framework.parsers import FormParser, MultiPartParser

from tsur.core import signin
from tsur.core.api.filters import FilterSet
from tsur.core.models import Building, Organisation, Territory

from .parsers import JSONParser
from .serializers import BuildingSerializer, OrganisationSerializer, TerritorySerializer
from .throttling import AnonThrottle


class LoginThrottle(AnonThrottle):
    scope = "login"


class LockedOut(Throttled):
    """429 with the lockout's own message (DRF's would append an English «Expected available in…»)
    and Retry-After."""

    def __init__(self, wait: int):
        super().__init__(detail=signin.refusal(wait))
        self.wait = wait


class ObtainToken(ObtainAuthToken):
    """A token for a system or a person. Requests are rate-limited per address (LoginThrottle, in the
    cache); failed passwords count towards the lockout every sign-in form shares (tsur.core.signin)."""

    throttle_classes = [LoginThrottle]
    # DRF's view names its own parsers, DRF's JSON parser among them: ours answers deep JSON with a 400
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def post(self, request, *args, **kwargs):
        username = request.data.get("username") if hasattr(request.data, "get") else None
        if isinstance(username, str) and username:
            wait = signin.retry_after(username, signin.client_address(request))
            if wait is not None:
                raise LockedOut(wait)
        return super().post(request, *args, **kwargs)


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
