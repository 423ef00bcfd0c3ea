"""A small region for the workspace's tests: an operator's moderation queue with what the text model
understood, an organisation with its executor and supervisor, and another organisation."""

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from tsur.appeals import actions
from tsur.appeals.choices import EventKind
from tsur.appeals.models import AppealEvent
from tsur.appeals.tests.factories import BlockFactory, TopicFactory
from tsur.core.choices import Role
from tsur.core.tests.factories import BuildingFactory, OrganisationFactory, user_with_role

# markup is refused at intake, but a tag left open gets through and would run if a page printed it raw
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("TSUR_SCREENSHOTS", "var/screenshots"))
HOSTILE = 'Течёт крыша & <кровля> <img src=x onerror="window.pwned=1"'


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def browser_page(monkeypatch):
    """Debian's chromium driven by Playwright; what the Content-Security-Policy refused and what the
    page reported as an error are collected on the page (`csp_violations`, `console_errors`)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is needed for the browser tests: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes between
    # browser steps are ordinary synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="en-US")
        page.csp_violations = []
        page.console_errors = []

        def heard(message):
            if "Content Security Policy" in message.text:
                page.csp_violations.append(f"{page.url} {message.location}: {message.text}")
            elif message.type == "error":
                page.console_errors.append(message.text)

        page.on("console", heard)
        page.on("pageerror", lambda error: page.console_errors.append(str(error)))
        yield page
        browser.close()
        # the ORM calls made under Playwright's loop opened connections of their own context: closed
        # here, or the test database could not be dropped at the end
        connections.close_all()


@pytest.fixture
def region():
    housing = BlockFactory(code="zhkh", name="ЖКХ")
    roof = TopicFactory(code="roof-leak", name="Протечка кровли", block=housing)
    yard = TopicFactory(code="yard-dirty", name="Неубранный двор", block=housing)
    ours = OrganisationFactory(name="ЖА Невского района")
    theirs = OrganisationFactory(name="ЖА Центрального района")
    building = BuildingFactory(address="ул. Седова, д. 5", latitude=59.90, longitude=30.40)
    at = timezone.now() - timedelta(hours=2)
    new, _ = actions.register(
        channel="portal",
        text=HOSTILE,
        address="ул. Седова, д. 5, кв. 17",
        building=building,
        author_name="Иванова Мария",
        author_phone="+79110000000",
        moderate=True,
        at=at,
    )
    # what the text model said at intake, as register() records it when a model is loaded
    AppealEvent.objects.create(
        appeal=new,
        kind=EventKind.UNDERSTOOD,
        at=at,
        data={
            "model": "test",
            "predictions": {
                "label": [
                    {"value": roof.name, "p": 0.61},
                    {"value": yard.name, "p": 0.2},
                    {"value": "Тема, которой нет", "p": 0.1},
                ],
                "executor_org": [{"value": ours.name, "p": 0.57}, {"value": theirs.name, "p": 0.3}],
            },
            "topic": {"code": roof.code, "confidence": 0.61, "trusted": False},
            "place": {"text": "Седова 5", "street": "Седова", "house": "5", "building": building.pk},
        },
    )
    working, _ = actions.register(
        channel="hotline", text="Не вывозят мусор", topic=yard, organisation=ours, building=building, at=at
    )
    foreign, _ = actions.register(
        channel="hotline", text="Яма у дома", topic=yard, organisation=theirs, at=at
    )
    return {
        "roof": roof,
        "yard": yard,
        "ours": ours,
        "theirs": theirs,
        "new": new,
        "working": working,
        "foreign": foreign,
        "operator": user_with_role(Role.OPERATOR, username="operator"),
        "executor": user_with_role(Role.EXECUTOR, organisation=ours, username="executor"),
        "supervisor": user_with_role(Role.SUPERVISOR, organisation=ours, username="supervisor"),
        "stranger": user_with_role(Role.EXECUTOR, organisation=theirs, username="stranger"),
    }
