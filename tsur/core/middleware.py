"""Content-Security-Policy on every response (Django 5.2 has none of its own).

The policy is the `CONTENT_SECURITY_POLICY` setting: scripts only from this site's own files, no
inline script anywhere, so markup injected into a page cannot run. Pages served by third-party code
that needs inline styles or workers from blob: (the admin, Swagger UI, Redoc) get
`CONTENT_SECURITY_POLICY_RELAXED` merged in under the paths it names; their scripts stay the site's
own files there too.

Requests that fail because the database is unreachable answer 503 with Retry-After
(`DatabaseUnavailableMiddleware`).
"""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

log = logging.getLogger(__name__)


def _header(directives: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}".strip() for name, value in directives.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        policy = dict(settings.CONTENT_SECURITY_POLICY)
        relaxed = dict(settings.CONTENT_SECURITY_POLICY_RELAXED)
        self.relaxed_paths = tuple(relaxed.pop("paths", ()))
        self.strict = _header(policy)
        self.relaxed = _header({**policy, **relaxed})
        self.name = (
            "Content-Security-Policy-Report-Only"
            if settings.CONTENT_SECURITY_POLICY_REPORT_ONLY
            else "Content-Security-Policy"
        )

    def __call__(self, request):
        response = self.get_response(request)
        if self.name not in response:  # a view may set a policy of its own
            relaxed = request.path.startswith(self.relaxed_paths)
            response[self.name] = self.relaxed if relaxed else self.strict
        return response


UNAVAILABLE = "Сервис временно недоступен: повторите запрос через несколько секунд."
RETRY_AFTER_S = 5


class DatabaseUnavailableMiddleware:
    """A request that failed because the database was unreachable (restarting, failing over, out of
    connections) is answered 503 with Retry-After, not 500: nothing was stored, and an agency's system
    or an Open311 client knows to send the same request again (intake is idempotent by the sender's
    id, decision 0004). Django closes the broken connection at the end of the request; the next
    request opens a new one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        log.warning("%s %s: database unavailable: %s", request.method, request.path, exception)
        if request.path.startswith(("/api/", "/open311/")):
            response = JsonResponse({"detail": UNAVAILABLE}, status=503)
        else:
            response = HttpResponse(UNAVAILABLE, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_S)
        return response
