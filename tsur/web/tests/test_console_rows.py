# ruff: noqa: E501 - the template row is kept as it was written, one line per cell
"""The console list's rows written in Python (`{% console_rows %}`) are the HTML the template wrote
cell by cell: the same markup, escaping, dates, deadlines and words, whatever an appeal lacks."""

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test.html import parse_html
from django.utils import timezone

from tsur.appeals.choices import Status
from tsur.appeals.models import Appeal
from tsur.appeals.tests.factories import AppealFactory, TopicFactory
from tsur.core.tests.factories import BuildingFactory, OrganisationFactory
from tsur.web.templatetags.workspace import console_rows

pytestmark = pytest.mark.django_db

# the row as _results.html wrote it before the tag
TEMPLATE_ROW = Template(
    """{% load i18n workspace %}{% for appeal in page %}
      <tr>
        <td class="check c-check"><input type="checkbox" name="numbers" value="{{ appeal.number }}" form="bulk" aria-label="{% blocktranslate with number=appeal.number %}Отметить обращение {{ number }}{% endblocktranslate %}"></td>
        <td class="nowrap c-num"><a href="{{ appeal.card_url }}">{{ appeal.number }}</a></td>
        <td class="nowrap c-date">{{ appeal.registered_at|date:"d.m.y H:i" }}</td>
        <td class="text-cell c-text">{{ appeal.text|truncatechars:110 }}</td>
        <td class="c-topic">{{ appeal.topic.name|default:"—" }}</td>
        <td class="c-addr">{% if appeal.building %}{{ appeal.building.address }}{% else %}{{ appeal.shown_address|default:"—" }}{% endif %}</td>
        <td class="c-org">{{ appeal.organisation|default:"—" }}</td>
        <td class="c-status"><span class="pill st-{{ appeal.status }}">{{ appeal.get_status_display }}</span></td>
        <td class="nowrap c-due">{% countdown appeal now %}</td>
      </tr>
    {% endfor %}"""
)


def appeals() -> list[Appeal]:
    now = timezone.now()
    topic = TopicFactory(name='Протечка <b>"кровли"</b> & подвал')
    made = [
        AppealFactory(
            text="<script>alert('x')</script> " + "Очень длинный текст обращения. " * 10,
            topic=topic,
            organisation=OrganisationFactory(name="ЖА «Невская» & Co"),
            building=BuildingFactory(address="ул. Седова, д. 5 <i>"),
            status=Status.IN_WORK,
            resolution_due=now + timedelta(days=9),
            first_response_due=now + timedelta(days=1),
        ),
        AppealFactory(text="Яма", topic=None, organisation=None, building=None, status=Status.MODERATION),
        AppealFactory(
            text="Не вывозят мусор",
            status=Status.IN_WORK,
            resolution_due=now - timedelta(days=3),
            first_response_due=now - timedelta(days=5),
        ),
        AppealFactory(
            text="Нет первого ответа",
            status=Status.ASSIGNED,
            resolution_due=now + timedelta(days=6),
            first_response_due=now - timedelta(hours=3),
        ),
        AppealFactory(text="Ждём ответа заявителя", status=Status.CLARIFICATION, paused_since=now),
    ]
    shown = ["", "пр. Ветеранов, д. 1 <b>", "", "ул. Ленина, 3", ""]
    for appeal, address in zip(made, shown, strict=True):
        appeal.refresh_from_db()
        appeal.card_url = f"/console/appeals/{appeal.number}/?back=a&b=<c>"
        appeal.shown_address = address
    return made


def test_the_rows_are_the_template_s_rows():
    page, now = appeals(), timezone.now()

    written = console_rows(page, now)
    templated = TEMPLATE_ROW.render(Context({"page": page, "now": now}))

    assert written.count("<tr>") == len(page)
    assert "<script>" not in written and "&lt;script&gt;" in written
    assert parse_html(written) == parse_html(templated)
