from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.urls import include, path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from tsur.core.admin_import import import_view
from tsur.core.api.views import ObtainToken
from tsur.core.forms import AdminSignInForm, SignInForm
from tsur.dispatch.views import telemetry
from tsur.web import shell_views

admin.site.site_header = "ЦУР: администрирование"
admin.site.site_title = "ЦУР"
admin.site.login_form = AdminSignInForm  # says so when password guessing has locked the account out

urlpatterns = [
    path("", shell_views.landing, name="home"),
    path("admin/import/", admin.site.admin_view(import_view), name="admin-import"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(("tsur.appeals.api.urls", "api"), namespace="api")),
    path("api/v1/auth/token/", ObtainToken.as_view(), name="api-token"),
    path("open311/v2/", include("tsur.open311.urls")),
    path("api/v1/telemetry/", telemetry, name="telemetry"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI's start-up script as a file of its own (?script): no inline script under the CSP
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("accounts/login/", LoginView.as_view(authentication_form=SignInForm), name="login"),
    # GET offers the button (a link must not sign anyone out), POST signs out
    path("accounts/logout/", shell_views.logout, name="logout"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("tsur.web.urls")),
]
if settings.DEBUG:
    # Development only: in the platform, photos are served by /api/v1/appeals/{number}/photos/{id}/,
    # which checks that the reader may see the appeal.
    urlpatterns.append(path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}))
