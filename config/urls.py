from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.throttling import AnonRateThrottle

from tsur.core.admin_import import import_view
from tsur.core.api.parsers import JSONParser
from tsur.core.views import home
from tsur.dispatch.views import telemetry


class LoginThrottle(AnonRateThrottle):
    scope = "login"


class ObtainToken(ObtainAuthToken):
    """A token for a system or a person, with password guessing limited per address."""

    throttle_classes = [LoginThrottle]
    # DRF's view names its own parsers, DRF's JSON parser among them: ours answers deep JSON with a 400
    parser_classes = [JSONParser, FormParser, MultiPartParser]


admin.site.site_header = "ЦУР: администрирование"
admin.site.site_title = "ЦУР"

urlpatterns = [
    path("", home, name="home"),
    path("admin/import/", admin.site.admin_view(import_view), name="admin-import"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(("tsur.appeals.api.urls", "api"), namespace="api")),
    path("api/v1/auth/token/", ObtainToken.as_view(), name="api-token"),
    path("open311/v2/", include("tsur.open311.urls")),
    path("api/v1/telemetry/", telemetry, name="telemetry"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("tsur.web.urls")),
]
if settings.DEBUG:
    # Development only: in the platform, photos are served by /api/v1/appeals/{number}/photos/{id}/,
    # which checks that the reader may see the appeal.
    urlpatterns.append(path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}))
