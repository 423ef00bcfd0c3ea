"""What every page's layout needs: the places the signed-in person may open, the region's name."""

from django.conf import settings

from .places import places_of


def places(request):
    user = getattr(request, "user", None)
    return {
        "places": places_of(user) if user is not None else [],
        "region_name": settings.TSUR["REGION_NAME"],
    }
