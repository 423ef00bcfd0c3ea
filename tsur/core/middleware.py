"""Content-Security-Policy on every response (Django 5.2 has none of its own).

The policy is the `CONTENT_SECURITY_POLICY` setting: scripts only from this site's own files, no
inline script anywhere, so markup injected into a page cannot run. Pages served by third-party code
that needs inline styles or workers from blob: (the admin, Swagger UI, Redoc) get
`CONTENT_SECURITY_POLICY_RELAXED` merged in under the paths it names; their scripts stay the site's
own files there too.
"""

from django.conf import settings


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
