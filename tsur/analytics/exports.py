"""Exports: any table as CSV or XLSX, streamed so that a million rows never sit in memory.

`csv_response` and `xlsx_response` take column definitions and an iterable of rows (the KPI tables
pass theirs); `appeal_columns` and `appeal_rows` make the appeal register's table for a reader: the
citizen's name and contacts and the flat only where the reader may see them (tsur.appeals.policies),
and no such column at all for a reader who may see them nowhere (an analyst, the leadership). Rows
whose contacts went out are written to the journal of personal-data access as they are sent.

CSV: one string per few hundred rows from a lazy iterator (`QuerySet.iterator(chunk_size)`), UTF-8
with a byte-order mark and «;» between fields, as spreadsheet programs in Russian expect. XLSX:
xlsxwriter's constant_memory mode writes each row to a temporary file at once; the finished file is
streamed from disk and removed (decision 0020).
"""

import csv
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

import xlsxwriter
from django.db.models import BooleanField, Case, Q, Value, When
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tsur.appeals import deadlines, policies
from tsur.appeals.actions import record_contacts_seen
from tsur.appeals.choices import AccessInterface, Channel, CloseReason, DeadlineState, Status
from tsur.appeals.models import Appeal
from tsur.core.scopes import scope_for

CHUNK_ROWS = 500  # rows per piece of a streamed CSV
ITERATOR_CHUNK = 2000  # rows per fetch from the database
XLSX_SHEET_ROWS = 1_000_000  # a sheet holds 1,048,576 rows: the rest go on the next sheet
XLSX_TEXT_LIMIT = 32_767  # the longest text a cell may hold
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?[\d ()-]+$")  # a phone number or a signed number: no formula


@dataclass(frozen=True)
class Column:
    """A column of an export: its title, how a row gives its value, its width in a spreadsheet."""

    key: str
    title: str
    value: Callable[[object], object]
    width: int = 16
    personal: bool = False  # the citizen's name, contacts or flat


def _cell(value) -> object:
    """A value as a spreadsheet shows it: local time, «да»/«нет», text that cannot start a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, bool):
        return _("да") if value else _("нет")
    if isinstance(value, str) and value.startswith(FORMULA_START) and not PLAIN_NUMBER.match(value):
        return "'" + value  # a citizen's text is never run as a formula (CSV injection)
    return value


def _csv_text(value) -> str:
    value = _cell(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_chunks(columns: list[Column], rows: Iterable) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([str(c.title) for c in columns])
    buffer.seek(0)
    yield "\ufeff" + buffer.getvalue()
    count = 0
    buffer.seek(0)
    buffer.truncate()
    for row in rows:
        writer.writerow([_csv_text(c.value(row)) for c in columns])
        count += 1
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def csv_response(filename: str, columns: list[Column], rows: Iterable) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_chunks(columns, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def write_xlsx(path: str, columns: list[Column], rows: Iterable, sheet: str = "") -> int:
    """The rows as an XLSX workbook at `path`, one row in memory at a time; returns their number."""
    sheet = (sheet or _("Выгрузка"))[:25]
    with xlsxwriter.Workbook(path, {"constant_memory": True, "tmpdir": os.path.dirname(path)}) as book:
        bold = book.add_format({"bold": True, "bg_color": "#E8EEF5", "border": 1})
        when = book.add_format({"num_format": "dd.mm.yyyy hh:mm"})
        day = book.add_format({"num_format": "dd.mm.yyyy"})
        written, page, line = 0, 0, 0
        worksheet = None
        for row in rows:
            if worksheet is None or line > XLSX_SHEET_ROWS:
                page += 1
                worksheet = book.add_worksheet(sheet if page == 1 else f"{sheet} {page}")
                for i, column in enumerate(columns):
                    worksheet.set_column(i, i, column.width)
                    worksheet.write_string(0, i, str(column.title), bold)
                worksheet.freeze_panes(1, 0)
                line = 1
            for i, column in enumerate(columns):
                value = _cell(column.value(row))
                if isinstance(value, datetime):
                    worksheet.write_datetime(line, i, value, when)
                elif isinstance(value, date):
                    worksheet.write_datetime(line, i, datetime.combine(value, datetime.min.time()), day)
                elif isinstance(value, int | float):
                    worksheet.write_number(line, i, value)
                elif value != "":
                    worksheet.write_string(line, i, str(value)[:XLSX_TEXT_LIMIT])
            line += 1
            written += 1
        if worksheet is None:  # no rows: the titles alone
            worksheet = book.add_worksheet(sheet)
            for i, column in enumerate(columns):
                worksheet.write_string(0, i, str(column.title), bold)
    return written


def xlsx_response(filename: str, columns: list[Column], rows: Iterable, sheet: str = "") -> FileResponse:
    """The workbook is made in a temporary file and streamed from it; the file is gone from the
    disk as soon as it is open (the open handle keeps it until the response is sent)."""
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="tsur-export-")
    os.close(handle)
    try:
        write_xlsx(path, columns, rows, sheet)
        stream = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    finally:
        os.unlink(path)
    return FileResponse(
        stream,
        as_attachment=True,
        filename=f"{filename}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# ------------------------------------------------------------------ the appeal register


def _label(choices) -> Callable[[str], str]:
    labels = dict(choices)
    return lambda value: str(labels.get(value, value or ""))


STATUS, CHANNEL, STATE, CLOSE = (_label(c.choices) for c in (Status, Channel, DeadlineState, CloseReason))
APPEAL_FIELDS = [
    "pk",
    "number",
    "registered_at",
    "channel",
    "status",
    "topic__block__name",
    "topic__name",
    "territory__name",
    "organisation__name",
    "address",
    "text",
    "first_response_due",
    "resolution_due",
    "first_responded_at",
    "answered_at",
    "closed_at",
    "close_reason",
    "reopen_count",
    "rating",
]
PERSONAL_FIELDS = ["author_name", "author_email", "author_phone"]


def may_see_personal_data_somewhere(user) -> bool:
    """Whether any role of the user shows citizens' personal data (an analyst's none does)."""
    return scope_for(user, policies.PERSONAL_DATA_ROLES).is_staff


def appeal_columns(user) -> list[Column]:
    t = gettext_lazy
    columns = [
        Column("number", t("Номер"), lambda r: r["number"], 12),
        Column("registered_at", t("Поступило"), lambda r: r["registered_at"], 17),
        Column("channel", t("Канал"), lambda r: CHANNEL(r["channel"]), 14),
        Column("status", t("Статус"), lambda r: STATUS(r["status"]), 18),
        Column("block", t("Блок"), lambda r: r["topic__block__name"], 20),
        Column("topic", t("Тема"), lambda r: r["topic__name"], 30),
        Column("territory", t("Территория"), lambda r: r["territory__name"], 24),
        Column("organisation", t("Исполнитель"), lambda r: r["organisation__name"], 30),
        Column("address", t("Адрес"), _address, 40),
        Column("text", t("Текст обращения"), lambda r: r["text"], 60),
        Column("deadline_state", t("Срок"), lambda r: STATE(r["deadline_now"]), 14),
        Column("first_response_due", t("Срок первого ответа"), lambda r: r["first_response_due"], 17),
        Column("resolution_due", t("Срок решения"), lambda r: r["resolution_due"], 17),
        Column("first_responded_at", t("Первый ответ"), lambda r: r["first_responded_at"], 17),
        Column("answered_at", t("Ответ дан"), lambda r: r["answered_at"], 17),
        Column("closed_at", t("Закрыто"), lambda r: r["closed_at"], 17),
        Column("close_reason", t("Основание закрытия"), lambda r: CLOSE(r["close_reason"]), 22),
        Column("reopen_count", t("Повторных открытий"), lambda r: r["reopen_count"], 10),
        Column("rating", t("Оценка"), lambda r: r["rating"], 8),
    ]
    if may_see_personal_data_somewhere(user):
        columns += [
            Column("author_name", t("Заявитель"), _personal("author_name"), 24, personal=True),
            Column("author_email", t("E-mail"), _personal("author_email"), 24, personal=True),
            Column("author_phone", t("Телефон"), _personal("author_phone"), 16, personal=True),
        ]
    return columns


def _address(row) -> str:
    return row["address"] if row.get("personal") else policies.public_address(row["address"] or "")


def _personal(key: str) -> Callable[[dict], str]:
    return lambda row: row[key] if row["personal"] else ""


def appeal_rows(queryset, user, *, journal: bool = True) -> Iterator[dict]:
    """The appeals of `queryset` as rows for `appeal_columns(user)`, fetched in chunks; each row knows
    whether the user may see its citizen (`personal`). The appeals whose contacts were exported
    are journaled (PersonalDataAccess) chunk by chunk."""
    # the deadline's state as every screen counts it at this moment (decision 0025), not the job's mark
    now = timezone.now()
    queryset = queryset.annotate(
        deadline_now=Case(
            # in order: overdue now first, so the job's «срок истекает» mark is read only for the rest
            When(deadlines.overdue_now(now), then=Value(str(DeadlineState.OVERDUE))),
            When(deadline_state=DeadlineState.SOON, then=Value(str(DeadlineState.SOON))),
            default=Value(str(DeadlineState.OK)),
        )
    )
    fields = [*APPEAL_FIELDS, "deadline_now"]
    if may_see_personal_data_somewhere(user):
        condition = Appeal.objects.restriction(user, "see_personal_data")
        personal = (
            Value(True)
            if condition == Q()
            else Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())
        )
        queryset = queryset.annotate(personal=personal)
        fields += [*PERSONAL_FIELDS, "personal"]
    seen: list[int] = []
    for row in queryset.values(*fields).iterator(chunk_size=ITERATOR_CHUNK):
        if row.get("personal") and (row["author_name"] or row["author_email"] or row["author_phone"]):
            seen.append(row["pk"])
            if journal and len(seen) >= ITERATOR_CHUNK:
                record_contacts_seen(user, seen, AccessInterface.EXPORT)
                seen = []
        yield row
    if journal and seen:
        record_contacts_seen(user, seen, AccessInterface.EXPORT)


def filename(prefix: str = "appeals") -> str:
    return f"{prefix}-{timezone.localtime():%Y%m%d-%H%M}"
