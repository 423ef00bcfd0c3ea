"""Residents sign in by e-mail (issue 16): a six-digit code by Django's mail, kept hashed, good for
ten minutes and five tries, a few an hour per e-mail and per client's address; the same answer for
every address; the account made at the first right code, once, as a citizen and nothing more; or a
password they set, locked out after failures as staff sign-ins are."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from tsur.appeals.models import Appeal
from tsur.appeals.tests.factories import AppealFactory
from tsur.core import codes
from tsur.core.choices import Role
from tsur.core.models import RoleAssignment, SignInCode, User
from tsur.core.tests.factories import UserFactory, user_with_role

pytestmark = pytest.mark.django_db
ASK, CODE, PASSWORD = "/my/login/", "/my/login/code/", "/my/login/password/"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.TSUR = {
        **settings.TSUR,
        "SIGNIN_CODE_MINUTES": 10,
        "SIGNIN_CODE_ATTEMPTS": 5,
        "SIGNIN_CODES_PER_EMAIL": 3,
        "SIGNIN_CODES_PER_ADDRESS": 5,
        "SIGNIN_FAILURES_PER_ACCOUNT": 5,
        "SIGNIN_FAILURES_PER_ADDRESS": 30,
    }


def browser(address="10.0.0.1") -> Client:
    return Client(REMOTE_ADDR=address)


def ask(client, email):
    return client.post(ASK, {"email": email})


def last_code(email) -> str:
    message = [m for m in mail.outbox if m.to == [email.strip().lower()]][-1]
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def page_text(response, email) -> str:
    """The page with the e-mail and the CSRF token (random per page) blanked out."""
    body = response.content.decode().replace(email, "EMAIL")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)


def signed_in(client) -> User | None:
    pk = client.session.get("_auth_user_id")
    return User.objects.get(pk=pk) if pk else None


def sign_in_with_code(email, client=None):
    client = client or browser()
    assert ask(client, email).status_code == 302
    return client, client.post(CODE, {"code": last_code(email)})


def test_a_code_is_mailed_in_russian_and_kept_only_as_a_hash():
    client = browser()

    response = ask(client, "  Zhitel@Example.org ")

    assert (response.status_code, response["Location"]) == (302, CODE)
    (message,) = mail.outbox
    code = last_code("zhitel@example.org")
    assert message.subject == "Код для входа в ЦУР"
    assert "Ваш код для входа" in message.body and "10 минут" in message.body
    stored = SignInCode.objects.get()
    assert code not in str(list(SignInCode.objects.values()))
    assert "zhitel" not in str(list(SignInCode.objects.values()))
    assert stored.expires_at - stored.created_at == timedelta(minutes=10)
    page = client.get(CODE).content.decode()
    assert "zhitel@example.org" in page


def test_the_first_right_code_makes_a_residents_account_and_signs_in():
    client, response = sign_in_with_code("new@example.org")

    assert (response.status_code, response["Location"]) == (302, "/")
    user = signed_in(client)
    assert (user.username, user.email, user.is_staff, user.is_superuser) == (
        "new@example.org",
        "new@example.org",
        False,
        False,
    )
    assert list(
        RoleAssignment.objects.filter(user=user).values_list("role", "organisation", "territory")
    ) == [(Role.CITIZEN, None, None)]
    assert not user.has_usable_password()
    # "/" takes a resident to their appeals
    assert client.get("/")["Location"] == "/my/"


def test_appeals_filed_without_an_account_join_the_resident_s_list_at_a_sign_in_by_code():
    """Filed on the portal without signing in, under the address the resident later proves with a
    code: those appeals are theirs on /my/; one under another address, or already someone's, is not."""
    other = UserFactory()
    mine = [
        AppealFactory(author=None, author_email="Petrova@Example.org", text="Яма у дома 3"),
        AppealFactory(author=None, author_email="petrova@example.org", text="Нет света в подъезде"),
    ]
    strangers = [
        AppealFactory(author=None, author_email="ivanov@example.org", text="Сосулька над входом"),
        AppealFactory(author=other, author_email="petrova@example.org", text="Не вывезен мусор"),
    ]

    client, _response = sign_in_with_code("petrova@example.org")

    user = signed_in(client)
    assert set(Appeal.objects.filter(author=user)) == set(mine)
    for appeal in strangers:
        appeal.refresh_from_db()
    assert [a.author_id for a in strangers] == [None, other.pk]
    listed = client.get("/my/").content.decode()
    assert all(a.number in listed for a in mine) and not any(a.number in listed for a in strangers)


def test_a_wrong_code_claims_nothing():
    appeal = AppealFactory(author=None, author_email="petrova@example.org")
    client = browser()
    ask(client, "petrova@example.org")
    client.post(CODE, {"code": "000000" if last_code("petrova@example.org") != "000000" else "111111"})
    appeal.refresh_from_db()
    assert appeal.author is None


def test_the_account_is_made_once():
    first, _ = sign_in_with_code("once@example.org")
    second, _ = sign_in_with_code("ONCE@example.org", browser("10.0.0.2"))

    assert signed_in(first) == signed_in(second)
    assert User.objects.filter(email="once@example.org").count() == 1


def test_a_known_and_an_unknown_address_get_the_same_answers():
    user_with_role(Role.CITIZEN, username="known@example.org", email="known@example.org")
    pages = []
    for email in ("known@example.org", "unknown@example.org"):
        client = browser()
        asked = ask(client, email)
        shown = page_text(client.get(CODE), email)
        wrong = client.post(CODE, {"code": "000000" if last_code(email) != "000000" else "111111"})
        pages.append(
            (
                asked.status_code,
                asked["Location"],
                shown,
                wrong.status_code,
                page_text(wrong, email),
            )
        )
    assert len(mail.outbox) == 2
    assert pages[0] == pages[1]


def test_an_existing_residents_account_is_found_by_its_email():
    citizen = user_with_role(Role.CITIZEN, username="citizen", email="citizen@example.org")

    client, _ = sign_in_with_code("citizen@example.org")

    assert signed_in(client) == citizen
    assert User.objects.count() == 1


def test_a_code_never_signs_in_a_staff_account_with_that_email():
    operator = user_with_role(
        Role.OPERATOR, username="citizen-op@example.org", email="citizen-op@example.org"
    )

    client, _ = sign_in_with_code("citizen-op@example.org")

    user = signed_in(client)
    assert user != operator
    assert (user.username, user.is_staff, sorted(user.role_set)) == (
        "citizen-op@example.org-2",
        False,
        [Role.CITIZEN],
    )


def test_an_expired_code_is_refused():
    client = browser()
    ask(client, "late@example.org")
    code = last_code("late@example.org")
    # given: the code was sent eleven minutes ago
    earlier = timezone.now() - timedelta(minutes=11)
    SignInCode.objects.update(created_at=earlier, expires_at=earlier + timedelta(minutes=10))

    response = client.post(CODE, {"code": code})

    assert response.status_code == 400
    assert "Код устарел" in response.content.decode()
    assert signed_in(client) is None and not User.objects.exists()


def test_five_wrong_tries_spend_the_code():
    client = browser()
    ask(client, "guess@example.org")
    code = last_code("guess@example.org")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    answers = [client.post(CODE, {"code": wrong}).content.decode() for _ in range(5)]

    response = client.post(CODE, {"code": code})

    assert "Осталось попыток: 4." in answers[0] and "Осталось попыток: 1." in answers[3]
    assert "Попытки исчерпаны" in answers[4]
    assert response.status_code == 429  # and the account's sign-ins are locked out as for a password
    assert signed_in(client) is None and not User.objects.exists()


def test_only_the_last_code_sent_counts(monkeypatch):
    drawn = iter([111111, 222222])
    monkeypatch.setattr(codes.secrets, "randbelow", lambda _n: next(drawn))
    client = browser()
    ask(client, "twice@example.org")
    ask(client, "twice@example.org")

    assert client.post(CODE, {"code": "111111"}).status_code == 400
    assert client.post(CODE, {"code": "222222"}).status_code == 302
    assert signed_in(client).email == "twice@example.org"


def test_a_code_signs_in_once():
    codes.send("reuse@example.org", "10.0.0.1")
    code = last_code("reuse@example.org")
    assert codes.redeem("reuse@example.org", code, "10.0.0.1").email == "reuse@example.org"

    with pytest.raises(codes.CodeRefused, match="уже использован"):
        codes.redeem("reuse@example.org", code, "10.0.0.2")


def test_codes_per_email_are_limited_an_hour():
    answers = [ask(browser(f"10.0.1.{n}"), "many@example.org").status_code for n in range(4)]

    assert answers == [302, 302, 302, 429]
    assert len(mail.outbox) == 3


def test_codes_per_client_address_are_limited_an_hour():
    client = browser("10.0.2.1")
    answers = [ask(client, f"person{n}@example.org").status_code for n in range(6)]

    assert answers == [302] * 5 + [429]
    assert "Слишком много запросов кода" in ask(client, "person9@example.org").content.decode()
    assert ask(browser("10.0.2.2"), "person9@example.org").status_code == 302  # another address may
    assert len(mail.outbox) == 6


def test_the_hourly_limit_passes_with_the_hour():
    for n in range(3):
        ask(browser(f"10.0.3.{n}"), "hour@example.org")
    # given: those codes were asked for more than an hour ago
    SignInCode.objects.update(created_at=timezone.now() - timedelta(minutes=61))

    assert ask(browser(), "hour@example.org").status_code == 302


def test_a_deactivated_residents_account_is_not_signed_in():
    user_with_role(Role.CITIZEN, username="gone@example.org", email="gone@example.org", is_active=False)

    client, response = sign_in_with_code("gone@example.org")

    assert response.status_code == 400 and signed_in(client) is None
    assert User.objects.count() == 1


@pytest.mark.parametrize("email", ["not-an-email", "", "a" * 150 + "@example.org"])
def test_a_wrong_email_is_a_clear_400(email):
    response = ask(browser(), email)
    assert response.status_code == 400
    assert not mail.outbox and not SignInCode.objects.exists()


def test_the_code_page_without_an_email_sends_to_the_first_step():
    response = browser().post(CODE, {"code": "123456"})
    assert (response.status_code, response["Location"]) == (302, ASK)


def test_after_sign_in_the_page_that_asked_for_it_opens():
    client = browser()
    assert client.get("/my/")["Location"] == "/my/login/?next=/my/"
    client.post(ASK, {"email": "next@example.org", "next": "/my/"})
    response = client.post(CODE, {"code": last_code("next@example.org")})
    assert response["Location"] == "/my/"


def test_a_foreign_next_is_ignored():
    client = browser()
    client.post(ASK, {"email": "evil@example.org", "next": "https://evil.example.com/"})
    response = client.post(CODE, {"code": last_code("evil@example.org")})
    assert response["Location"] == "/"


def test_the_forms_need_csrf():
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR="10.0.0.1")
    assert ask(client, "csrf@example.org").status_code == 403
    assert client.post(PASSWORD, {"username": "csrf@example.org", "password": "x"}).status_code == 403
    assert not mail.outbox


# ------------------------------------------------------------------ passwords


def test_a_resident_sets_a_password_and_signs_in_with_it():
    client, _ = sign_in_with_code("pw@example.org")
    page = client.get("/my/password/")
    assert page.status_code == 200 and "Задать пароль" in page.content.decode()

    response = client.post(
        "/my/password/", {"new_password1": "Зелёный-чайник-42", "new_password2": "Зелёный-чайник-42"}
    )
    assert (response.status_code, response["Location"]) == (302, "/my/")
    assert signed_in(client) is not None  # this session stays signed in
    client.post("/accounts/logout/")

    other = browser()
    response = other.post(PASSWORD, {"username": "PW@example.org", "password": "Зелёный-чайник-42"})

    assert (response.status_code, response["Location"]) == (302, "/")
    assert signed_in(other).email == "pw@example.org"


def test_changing_a_password_needs_the_old_one():
    resident = user_with_role(Role.CITIZEN, username="ch@example.org", email="ch@example.org")
    client = browser()
    client.force_login(resident)

    response = client.post(
        "/my/password/",
        {"old_password": "wrong", "new_password1": "Новый-пароль-77", "new_password2": "Новый-пароль-77"},
    )

    assert response.status_code == 200
    resident.refresh_from_db()
    assert resident.check_password("pass-Word-123")


def test_a_weak_password_is_refused():
    client, _ = sign_in_with_code("weak@example.org")
    response = client.post("/my/password/", {"new_password1": "12345678", "new_password2": "12345678"})
    assert response.status_code == 200
    assert not signed_in(client).has_usable_password()


def test_the_sixth_password_try_is_refused_even_when_right():
    user_with_role(Role.CITIZEN, username="lock@example.org", email="lock@example.org")
    for _ in range(5):
        response = browser().post(PASSWORD, {"username": "lock@example.org", "password": "wrong-guess"})
        assert "Неверная почта или пароль" in response.content.decode()

    client = browser()
    response = client.post(PASSWORD, {"username": "lock@example.org", "password": "pass-Word-123"})

    assert response.status_code == 200 and signed_in(client) is None
    assert "Слишком много неудачных попыток входа" in response.content.decode()


def test_wrong_codes_lock_the_password_out_too():
    user_with_role(Role.CITIZEN, username="both@example.org", email="both@example.org")
    client = browser()
    ask(client, "both@example.org")
    code = last_code("both@example.org")
    for _ in range(5):
        client.post(CODE, {"code": f"{(int(code) + 1) % 10**6:06d}"})

    response = browser().post(PASSWORD, {"username": "both@example.org", "password": "pass-Word-123"})

    assert "Слишком много неудачных попыток входа" in response.content.decode()


def test_an_unknown_email_and_a_wrong_password_read_alike():
    user_with_role(Role.CITIZEN, username="real@example.org", email="real@example.org")
    known = browser().post(PASSWORD, {"username": "real@example.org", "password": "wrong-guess"})
    unknown = browser().post(PASSWORD, {"username": "ghost@example.org", "password": "wrong-guess"})
    assert known.status_code == unknown.status_code == 200
    assert page_text(known, "real@example.org") == page_text(unknown, "ghost@example.org")


def test_staff_do_not_open_the_residents_places():
    staff = UserFactory(username="clerk", is_staff=True)
    client = browser()
    client.force_login(staff)
    assert client.get("/my/").status_code == 403
    assert client.get("/my/password/").status_code == 403
    assert client.get(ASK)["Location"] == "/"
