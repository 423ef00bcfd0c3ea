from rest_framework.routers import DefaultRouter

from tsur.core.api.views import BuildingViewSet, OrganisationViewSet, TerritoryViewSet

from .views import (
    AppealViewSet,
    ComplaintTicketViewSet,
    RoutingRuleViewSet,
    ThematicBlockViewSet,
    TopicViewSet,
)

router = DefaultRouter()
router.register("appeals", AppealViewSet, basename="appeal")
router.register("complaint-tickets", ComplaintTicketViewSet, basename="complaintticket")
router.register("blocks", ThematicBlockViewSet, basename="thematicblock")
router.register("topics", TopicViewSet, basename="topic")
router.register("routing-rules", RoutingRuleViewSet, basename="routingrule")
router.register("territories", TerritoryViewSet, basename="territory")
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("buildings", BuildingViewSet, basename="building")

urlpatterns = router.urls
