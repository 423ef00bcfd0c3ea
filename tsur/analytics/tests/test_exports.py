"""Exports of the appeal list: the console's filtered list as CSV and XLSX, scoped to the reader, with
citizens' personal data only for those entitled (and journaled), streamed in pieces."""

import csv
import io
import re
import zipfile
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tsur.analytics import exports
from tsur.appeals.choices import AccessInterface, Status
from tsur.appeals.models import PersonalDataAccess
from tsur.appeals.tests.factories import AppealFactory, TopicFactory
from tsur.core.choices import Role
from tsur.core.tests.factories import OrganisationFactory, TerritoryFactory, user_with_role

pytestmark = pytest.mark.django_db
NAME, PHONE, EMAIL = "Сидорова Анна Петровна", "+7 921 555-12-34", "anna@example.org"


@pytest.fixture
def register():
    territory = TerritoryFactory()
    ours, theirs = OrganisationFactory(name="ЖА Невского района"), OrganisationFactory(name="ГУП Водоканал")
    roof, water = TopicFactory(name="Протекает кровля"), TopicFactory(name="Нет воды")
    now = timezone.now()
    appeals = {
        "ours_old": AppealFactory(
            organisation=ours,
            topic=roof,
            territory=territory,
            status=Status.IN_WORK,
            registered_at=now - timedelta(days=3),
            address="ул. Садовая, д. 5, кв. 17",
            author_name=NAME,
            author_phone=PHONE,
            author_email=EMAIL,
            text='=HYPERLINK("http://evil") течёт крыша',
        ),
        "ours_new": AppealFactory(
            organisation=ours, topic=water, territory=territory, registered_at=now - timedelta(days=1)
        ),
        "theirs": AppealFactory(
            organisation=theirs,
            topic=water,
            territory=territory,
            registered_at=now - timedelta(days=2),
            author_name="Кузнецов Пётр",
            author_phone="+7 900 111-22-33",
        ),
    }
    return {
        "appeals": appeals,
        "ours": ours,
        "operator": user_with_role(Role.OPERATOR),
        "executor": user_with_role(Role.EXECUTOR, organisation=ours),
        "analyst": user_with_role(Role.ANALYST),
        "dispatcher": user_with_role(Role.DISPATCHER),
    }


def download(user, fmt="csv", **query):
    client = Client()
    client.force_login(user)
    response = client.get(f"/export/appeals.{fmt}", query)
    assert response.status_code == 200, response.status_code
    return response, b"".join(response.streaming_content)


def table(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_the_csv_is_the_consoles_filtered_list(register):
    a = register["appeals"]

    _, body = download(register["operator"], queue="all", organisation=register["ours"].pk)

    rows = table(body)
    assert rows[0][:4] == ["Номер", "Поступило", "Канал", "Статус"]
    # the console's order: newest first, and only the organisation filtered for
    assert [r[0] for r in rows[1:]] == [a["ours_new"].number, a["ours_old"].number]
    old = dict(zip(rows[0], rows[2], strict=True))
    assert old["Статус"] == "В работе"
    assert old["Тема"] == "Протекает кровля"
    assert old["Исполнитель"] == "ЖА Невского района"
    # the operator works with the citizen: name, contacts and the flat
    assert (old["Заявитель"], old["Телефон"], old["E-mail"]) == (NAME, PHONE, EMAIL)
    assert old["Адрес"] == "ул. Садовая, д. 5, кв. 17"
    # a citizen's text never becomes a formula in a spreadsheet
    assert old["Текст обращения"] == '\'=HYPERLINK("http://evil") течёт крыша'


def test_the_deadline_column_says_what_the_overdue_queue_says(register):
    """An appeal whose deadline passed an hour ago, not yet marked by the job worker: the «Просрочено»
    queue holds it and its row says «Просрочено» (decision 0025), the others «В срок»."""
    a = register["appeals"]
    late = a["ours_old"]
    late.resolution_due = timezone.now() - timedelta(hours=1)
    late.save(update_fields=["resolution_due"])

    _, overdue = download(register["operator"], queue="overdue")
    _, everything = download(register["operator"], queue="all")

    assert [(r[0], dict(zip(table(overdue)[0], r, strict=True))["Срок"]) for r in table(overdue)[1:]] == [
        (late.number, "Просрочено")
    ]
    rows = table(everything)
    states = {r[0]: dict(zip(rows[0], r, strict=True))["Срок"] for r in rows[1:]}
    assert states == {late.number: "Просрочено", a["ours_new"].number: "В срок", a["theirs"].number: "В срок"}


def test_the_queue_of_the_console_is_kept(register):
    a = register["appeals"]

    _, body = download(register["operator"], queue="moderation")

    # only the two appeals still «registered» (the factory's status) are in moderation
    assert sorted(r[0] for r in table(body)[1:]) == sorted([a["ours_new"].number, a["theirs"].number])


def test_an_organisations_executor_exports_only_its_appeals_and_the_export_is_journaled(register):
    a = register["appeals"]
    executor = register["executor"]

    _, body = download(executor)

    rows = table(body)
    assert [r[0] for r in rows[1:]] == [a["ours_new"].number, a["ours_old"].number]
    assert NAME in body.decode("utf-8-sig") and "Кузнецов" not in body.decode("utf-8-sig")
    # one journal row: the only exported appeal that has a citizen's contacts
    journal = PersonalDataAccess.objects.filter(user=executor)
    assert list(journal.values_list("appeal_id", "interface")) == [(a["ours_old"].pk, AccessInterface.EXPORT)]


def test_an_analysts_export_holds_no_personal_data(register):
    analyst = register["analyst"]

    _, body = download(analyst)

    text = body.decode("utf-8-sig")
    rows = table(body)
    assert len(rows) == 4  # the whole region: three appeals
    assert not {"Заявитель", "E-mail", "Телефон"} & set(rows[0])
    for value in (NAME, PHONE, EMAIL, "Кузнецов", "900 111", "кв. 17"):
        assert value not in text
    assert "ул. Садовая, д. 5" in text  # the house stays, for the analysis of places
    assert not PersonalDataAccess.objects.exists()


def test_the_xlsx_opens_with_the_same_rows(register):
    a = register["appeals"]

    response, body = download(register["analyst"], "xlsx", queue="all")

    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert 'filename="appeals-' in response["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(body)) as book:
        assert "xl/workbook.xml" in book.namelist()
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert len(re.findall(r"<row ", sheet)) == 4  # titles + three appeals
    texts = re.findall(r"<t(?: [^>]*)?>([^<]*)</t>", sheet)
    for appeal in a.values():
        assert appeal.number in texts
    assert "Номер" in texts and NAME not in sheet and "кв. 17" not in sheet


def test_a_dispatcher_may_not_export(register):
    client = Client()
    client.force_login(register["dispatcher"])

    assert client.get("/export/appeals.csv").status_code == 403
    assert client.get("/export/appeals.pdf").status_code == 404


def test_the_console_offers_the_export_of_what_it_shows(register):
    client = Client()
    client.force_login(register["operator"])

    body = client.get("/console/", {"queue": "open", "status": "in_work"}).content.decode()

    assert 'href="/export/appeals.csv?status=in_work&amp;queue=open"' in body
    assert 'href="/export/appeals.xlsx?status=in_work&amp;queue=open"' in body


def test_the_generic_csv_streams_any_table_in_pieces():
    columns = [exports.Column("n", "Номер", lambda r: r[0]), exports.Column("v", "Доля", lambda r: r[1])]
    rows = ((i, i / 4) for i in range(exports.CHUNK_ROWS * 2 + 3))

    chunks = list(exports.csv_chunks(columns, rows))

    assert len(chunks) == 4  # the titles, two full pieces, the rest
    lines = "".join(chunks).lstrip("\ufeff").splitlines()
    assert lines[0] == "Номер;Доля" and lines[1] == "0;0.0" and lines[-1] == "1002;250.5"
