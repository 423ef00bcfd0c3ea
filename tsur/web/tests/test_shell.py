"""The shell around the workspaces: where each role lands, what its header offers, signing in and
out, the error pages, the region's language whatever the browser asks, the `tsur` command's .env."""

import logging
import os

import pytest
from django.template import loader
from django.test import Client

from config import cli
from tsur.core.choices import Role
from tsur.core.tests.factories import OrganisationFactory, user_with_role

from .conftest import login

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "lands_on"),
    [
        (Role.OPERATOR, "/console/"),
        (Role.ADMINISTRATOR, "/console/"),
        (Role.EXECUTOR, "/work/"),
        (Role.SUPERVISOR, "/work/"),
        (Role.DISPATCHER, "/dispatch/"),
        (Role.ANALYST, "/overview/"),
        (Role.LEADERSHIP, "/overview/"),
        (Role.CITIZEN, "/my/"),
    ],
)
def test_each_role_lands_on_its_own_workspace(role, lands_on):
    organisation = OrganisationFactory() if role in (Role.EXECUTOR, Role.SUPERVISOR) else None
    client = login(user_with_role(role, organisation=organisation))

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == lands_on
    assert client.get(lands_on).status_code == 200


def test_a_stranger_sees_the_front_page():
    assert "Войти для сотрудников" in Client().get("/").content.decode()


def test_the_header_offers_only_the_places_the_role_may_open():
    executor = login(user_with_role(Role.EXECUTOR, organisation=OrganisationFactory()))
    page = executor.get("/work/").content.decode()
    assert 'href="/work/"' in page
    for elsewhere in ('href="/console/"', 'href="/dispatch/"', 'href="/admin/"', 'href="/overview/"'):
        assert elsewhere not in page
    operator = login(user_with_role(Role.OPERATOR)).get("/console/").content.decode()
    assert 'href="/console/"' in operator
    assert 'href="/work/"' not in operator


def test_signing_in_takes_the_person_to_their_workspace_in_russian_whatever_the_browser_asks():
    user_with_role(Role.OPERATOR, username="clerk")
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    form = client.get("/accounts/login/").content.decode()
    answer = client.post("/accounts/login/", {"username": "clerk", "password": "pass-Word-123"})

    assert "Вход в ЦУР" in form and "Логин" in form and "Пароль" in form
    assert "Username" not in form and "Django" not in form
    assert answer.status_code == 302 and answer["Location"] == "/"
    assert client.get("/").url == "/console/"
    wrong = client.post("/accounts/login/", {"username": "clerk", "password": "nope"}).content.decode()
    assert "Пожалуйста, введите правильные имя пользователя и пароль" in wrong


def test_signing_out_is_offered_by_get_and_done_by_post():
    client = login(user_with_role(Role.OPERATOR))

    offer = client.get("/accounts/logout/")
    assert offer.status_code == 200
    assert "Выйти из ЦУР?" in offer.content.decode()
    assert client.get("/console/").status_code == 200  # a GET signs nobody out

    done = client.post("/accounts/logout/")
    assert done.status_code == 302
    assert client.get("/console/").status_code == 302  # to the sign-in page


def test_signing_out_needs_the_csrf_token():
    user = user_with_role(Role.OPERATOR)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    assert client.post("/accounts/logout/").status_code == 403
    assert client.get("/console/").status_code == 200


def test_error_pages_are_russian_in_the_products_layout(caplog):
    client = login(user_with_role(Role.EXECUTOR, organisation=OrganisationFactory()))

    missing = client.get("/nowhere/", HTTP_ACCEPT_LANGUAGE="en")
    with caplog.at_level(logging.WARNING, logger="django.request"):
        refused = client.get("/console/", HTTP_ACCEPT_LANGUAGE="en")

    assert missing.status_code == 404
    assert "Страница не найдена" in missing.content.decode() and 'class="topbar"' in missing.content.decode()
    assert refused.status_code == 403
    assert "Этот раздел недоступен вашей роли." in refused.content.decode()
    # a refusal is one line in the log, not a traceback
    record = next(r for r in caplog.records if "Forbidden" in r.getMessage())
    assert record.exc_info is None


def test_the_server_error_page_renders_without_a_request():
    page = loader.get_template("500.html").render()
    assert "Что-то пошло не так" in page


def test_the_command_reads_the_projects_env_file_without_overriding_the_environment(tmp_path, monkeypatch):
    env = tmp_path / ".env"
    env.write_text("# made by scripts/up\nSECRET_KEY='from-the-file'\nexport TSUR_X=1\nKEPT=file\n")
    monkeypatch.setenv("KEPT", "environment")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("TSUR_X", raising=False)

    cli.load_env(tmp_path / "missing.env", env)

    assert os.environ["SECRET_KEY"] == "from-the-file"
    assert os.environ["TSUR_X"] == "1"
    assert os.environ["KEPT"] == "environment"


def test_the_overview_is_for_analysts_and_leadership(region):
    page = login(user_with_role(Role.ANALYST)).get("/overview/")
    assert page.status_code == 200
    assert "Обзор региона" in page.content.decode()
    assert login(region["executor"]).get("/overview/").status_code == 403
