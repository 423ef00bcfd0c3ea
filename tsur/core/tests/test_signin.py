"""Password guessing (issue 15, defect 2): failed sign-ins are counted per account and per client
address in the database, shared by every sign-in form, the admin's and the API's token endpoint, and
by every process; past the limit even the right password is refused until the window passes."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from tsur.core.api import authentication
from tsur.core.models import SignInFailure, remembered_assignments
from tsur.core.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
RIGHT, WRONG = "pass-Word-123", "wrong-guess"
FORMS = ["/accounts/login/", "/admin/login/"]
TOKEN = "/api/v1/auth/token/"
LOCKED = "Слишком много неудачных попыток входа"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.TSUR = {
        **settings.TSUR,
        "SIGNIN_FAILURES_PER_ACCOUNT": 5,
        "SIGNIN_FAILURES_PER_ADDRESS": 8,
        "SIGNIN_WINDOW_MINUTES": 15,
    }
    cache.clear()  # the token endpoint's request rate (LoginThrottle) starts afresh


@pytest.fixture
def staff():
    return UserFactory(username="clerk", is_staff=True)


def sign_in(url, username, password, address="10.0.0.1"):
    """One attempt on a form, from a client of its own (as a new browser or another process sees it);
    whether it signed in and the page's text."""
    client = Client(REMOTE_ADDR=address)
    response = client.post(url, {"username": username, "password": password})
    return "_auth_user_id" in client.session, response.content.decode()


def token(username, password, address="10.0.0.1"):
    return APIClient(REMOTE_ADDR=address).post(TOKEN, {"username": username, "password": password})


def forget_everything_in_the_process():
    """What another process would start with: no cache, no remembered tokens, roles or reference."""
    cache.clear()
    authentication.forget()
    remembered_assignments.forget()


@pytest.mark.parametrize("url", FORMS)
def test_the_sixth_attempt_with_the_right_password_is_refused(staff, url):
    for _ in range(5):
        assert sign_in(url, "clerk", WRONG)[0] is False

    signed_in, page = sign_in(url, "clerk", RIGHT)

    assert signed_in is False
    assert LOCKED in page
    assert SignInFailure.objects.count() == 10  # five per account and five per address


@pytest.mark.parametrize("url", FORMS)
def test_the_count_survives_clearing_every_cache_in_the_process(staff, url):
    for _ in range(5):
        sign_in(url, "clerk", WRONG)
        forget_everything_in_the_process()

    assert sign_in(url, "clerk", RIGHT)[0] is False


def test_the_count_is_per_account_from_any_address(staff):
    for n in range(5):
        sign_in("/accounts/login/", "clerk", WRONG, address=f"10.0.0.{n}")

    assert sign_in("/accounts/login/", "clerk", RIGHT, address="10.9.9.9")[0] is False


def test_the_count_is_per_address_over_any_accounts(staff):
    for n in range(8):
        UserFactory(username=f"victim{n}")
        assert sign_in("/accounts/login/", f"victim{n}", WRONG)[0] is False

    signed_in, page = sign_in("/accounts/login/", "clerk", RIGHT)

    assert signed_in is False
    assert LOCKED in page
    assert sign_in("/accounts/login/", "clerk", RIGHT, address="10.0.0.2")[0] is True


def test_the_token_endpoint_shares_the_count(staff):
    for _ in range(3):
        sign_in("/accounts/login/", "clerk", WRONG)
    assert token("clerk", WRONG).status_code == 400
    assert token("clerk", WRONG).status_code == 400

    refused = token("clerk", RIGHT)

    assert refused.status_code == 429
    assert refused.json()["detail"].startswith(LOCKED)
    assert "token" not in refused.json()
    assert sign_in("/admin/login/", "clerk", RIGHT)[0] is False


def test_failures_on_the_token_endpoint_lock_the_forms(staff):
    for _ in range(5):
        forget_everything_in_the_process()  # and the per-process request rate with it
        assert token("clerk", WRONG).status_code == 400

    assert sign_in("/accounts/login/", "clerk", RIGHT)[0] is False


def test_a_success_resets_the_accounts_count(staff):
    for _ in range(4):
        sign_in("/accounts/login/", "clerk", WRONG, address="10.0.0.1")
    assert sign_in("/accounts/login/", "clerk", RIGHT, address="10.0.0.1")[0] is True
    for _ in range(4):
        sign_in("/accounts/login/", "clerk", WRONG, address="10.0.0.2")

    assert sign_in("/accounts/login/", "clerk", RIGHT, address="10.0.0.2")[0] is True
    assert token("clerk", RIGHT, address="10.0.0.3").status_code == 200


def test_the_lock_ends_when_the_window_passes(staff):
    for _ in range(5):
        sign_in("/accounts/login/", "clerk", WRONG)
    assert sign_in("/accounts/login/", "clerk", RIGHT)[0] is False

    SignInFailure.objects.update(at=SignInFailure.objects.first().at - timedelta(minutes=15, seconds=1))

    assert sign_in("/accounts/login/", "clerk", RIGHT)[0] is True


def test_failures_are_stored_without_the_username_or_the_address(staff):
    sign_in("/accounts/login/", "+79990001122", WRONG, address="192.0.2.77")

    stored = " ".join(SignInFailure.objects.values_list("key", flat=True))
    assert "79990001122" not in stored and "192.0.2.77" not in stored
    assert SignInFailure.objects.count() == 2


def test_old_failures_are_pruned(staff):
    sign_in("/accounts/login/", "clerk", WRONG)
    SignInFailure.objects.update(at=SignInFailure.objects.first().at - timedelta(hours=1))

    sign_in("/accounts/login/", "someone", WRONG)

    assert SignInFailure.objects.count() == 2  # the new pair only
