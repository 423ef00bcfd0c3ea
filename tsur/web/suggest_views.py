"""Suggestions while a person types, for the portal's form and the hotline's: addresses from the
building register (GET, the words are not personal) and the topics the text model reads in a text
(POST, so that what a resident writes never reaches an access log). Anybody may ask, within the
public lookup limit (staff within a limit of their own, per account: an operator types all day);
the answers name buildings and topics, never appeals or people."""

from django.http import JsonResponse
from django.views.decorators.http import require_GET, require_POST

from tsur.appeals import policies, suggestions
from tsur.core.api.throttling import PublicLookupThrottle, StaffSuggestThrottle, allowed
from tsur.core.models import Building

QUERY_LIMIT = 200


def _within_limit(request) -> bool:
    staff = request.user.is_authenticated and policies.is_staff(request.user)
    return allowed(request, StaffSuggestThrottle if staff else PublicLookupThrottle)


def _too_many():
    return JsonResponse({"detail": "Слишком много запросов, повторите через минуту."}, status=429)


@require_GET
def addresses(request):
    query = request.GET.get("q", "")
    if len(query) > QUERY_LIMIT:
        return JsonResponse({"detail": "Слишком длинный запрос адреса."}, status=400)
    if not _within_limit(request):
        return _too_many()
    found = suggestions.addresses(query)
    return JsonResponse(
        {
            "results": [
                {
                    "id": b.pk,
                    "address": b.address,
                    "lat": b.latitude,
                    "lon": b.longitude,
                    "territory": b.territory.name,
                }
                for b in found
            ]
        }
    )


@require_POST
def topics(request):
    text = request.POST.get("text", "")
    if len(text) > suggestions.TEXT_LIMIT:
        return JsonResponse({"detail": "Слишком длинный текст."}, status=400)
    building = None
    if (building_id := request.POST.get("building", "")).isdigit() and len(building_id) < 12:
        building = Building.objects.select_related("territory").filter(pk=building_id).first()
    if not _within_limit(request):
        return _too_many()
    found = suggestions.topics(text, building=building)
    return JsonResponse(
        {
            "results": [
                {
                    "id": topic.pk,
                    "code": topic.code,
                    "name": topic.name,
                    "block": topic.block.name,
                    "complaint_book": topic.complaint_book,
                    "probability": round(probability, 3),
                }
                for topic, probability in found
            ]
        }
    )
