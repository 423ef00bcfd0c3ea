"""Security headers and cookies (issue 15, defect 6): a Content-Security-Policy without inline script
on every page, HSTS, and session and CSRF cookies marked Secure outside DEBUG."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tsur.core.choices import Role
from tsur.core.tests.factories import UserFactory, user_with_role

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in header.split(";") if part.strip()}


@pytest.fixture
def pages():
    """Every kind of page the platform serves, each with a client that may open it."""
    anonymous = Client()
    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    dispatcher = Client()
    dispatcher.force_login(user_with_role(Role.DISPATCHER))
    return [
        (anonymous, "/"),
        (anonymous, "/accounts/login/"),
        (anonymous, "/admin/login/"),
        (admin, "/admin/"),
        (admin, "/admin/core/user/"),
        (anonymous, "/api/docs/"),
        (anonymous, "/api/redoc/"),
        (dispatcher, "/dispatch/"),
        (admin, "/api/v1/appeals/?format=api"),  # DRF's browsable API
    ]


def test_every_page_has_a_policy_without_inline_script(pages):
    for client, url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        policy = directives(response)
        assert policy["script-src"] == "'self'", url
        assert (policy["object-src"], policy["frame-ancestors"]) == ("'none'", "'none'"), url
        inline = (
            INLINE_SCRIPT.findall(response.content.decode()) if "html" in response["Content-Type"] else []
        )
        assert inline == [], url


def test_styles_inline_only_where_third_party_pages_need_them(pages):
    for client, url in pages:
        style = directives(client.get(url))["style-src"]
        relaxed = url.startswith(("/admin/", "/api/"))
        assert style == ("'self' 'unsafe-inline'" if relaxed else "'self'"), url


def test_swagger_ui_starts_from_a_script_file(pages):
    page = Client().get("/api/docs/").content.decode()
    script = re.search(r'<script src="([^"]*script=[^"]*)"', page).group(1).replace("&amp;", "&")

    response = Client().get(script)

    assert (response.status_code, response["Content-Type"]) == (200, "application/javascript")
    assert "SwaggerUIBundle" in response.content.decode()


def test_the_policy_allows_the_regions_tile_server(settings):
    settings.CONTENT_SECURITY_POLICY = {
        **settings.CONTENT_SECURITY_POLICY,
        "img-src": "'self' data: https://t.example",
    }

    assert directives(Client().get("/"))["img-src"] == "'self' data: https://t.example"


def test_hsts_on_https(settings):
    response = Client().get("/", secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000"


def test_session_and_csrf_cookies_are_secure_and_the_session_http_only():
    user = UserFactory(username="clerk")
    client = Client()
    page = client.get("/accounts/login/")
    assert page.cookies["csrftoken"]["secure"] is True

    client.post("/accounts/login/", {"username": user.username, "password": "pass-Word-123"})

    session = client.cookies["sessionid"]
    assert (session["secure"], session["httponly"]) == (True, True)


def settings_under(**env) -> dict:
    """The security settings as a process started with `env` reads them."""
    code = (
        "import json, django; from django.conf import settings; django.setup(); print(json.dumps(["
        "settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS,"
        "settings.CONTENT_SECURITY_POLICY['img-src']]))"
    )
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECURE_COOKIES", "MAP_TILES_URL"}}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(
        zip(["session", "csrf", "hsts", "img"], json.loads(result.stdout.splitlines()[-1]), strict=True)
    )


def test_secure_by_default_outside_debug():
    assert settings_under() == {"session": True, "csrf": True, "hsts": 31536000, "img": "'self' data:"}
    assert settings_under(DEBUG="1") == {"session": False, "csrf": False, "hsts": 0, "img": "'self' data:"}
    plain_http = settings_under(SECURE_COOKIES="0", MAP_TILES_URL="https://{s}.tiles.example/{z}/{x}/{y}.png")
    assert plain_http == {
        "session": False,
        "csrf": False,
        "hsts": 31536000,
        "img": "'self' data: https://*.tiles.example",
    }


def test_the_demo_over_plain_http_turns_secure_cookies_off():
    """scripts/up serves http://127.0.0.1:8000: cookies marked Secure would not come back to it."""
    up = (ROOT / "scripts" / "up").read_text()
    assert 'export SECURE_COOKIES="${SECURE_COOKIES:-0}"' in up
    assert up.index("SECURE_COOKIES") < up.index("gunicorn")
