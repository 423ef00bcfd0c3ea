"""CSV import of reference data: all rows or none, with the row number of every problem.

Columns (UTF-8, comma-separated, header row):
  territories:   code, name, kind, parent_code, oktmo
  organisations: name, short_name, kind, parent, inn, email, territories (codes separated by «;»)
  buildings:     address, latitude, longitude, territory, kind, management_company
"""

import csv
import io
from collections.abc import Callable

from django.db import transaction

from .choices import OrganisationKind, PlaceKind, TerritoryKind
from .errors import DomainError
from .models import Building, Organisation, Territory

MAX_ROWS = 200_000


class ImportFailed(DomainError):
    def __init__(self, problems: list[str]):
        super().__init__(
            "; ".join(problems[:20]) + (f" … и ещё {len(problems) - 20}" if len(problems) > 20 else "")
        )
        self.problems = problems


def _rows(text: str, required: set[str]) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = required - set(reader.fieldnames or [])
    if missing:
        raise ImportFailed([f"нет столбцов: {', '.join(sorted(missing))}"])
    rows = []
    for row in reader:
        rows.append({k: (v or "").strip() for k, v in row.items() if k})
        if len(rows) > MAX_ROWS:
            raise ImportFailed([f"больше {MAX_ROWS} строк"])
    return rows


def _float(value: str, line: int, name: str, problems: list[str]) -> float | None:
    if not value:
        return None
    try:
        return float(value.replace(",", "."))
    except ValueError:
        problems.append(f"строка {line}: {name} «{value}» не число")
        return None


def import_territories(text: str) -> int:
    rows = _rows(text, {"code", "name", "kind"})
    problems = []
    known = {t.code: t for t in Territory.objects.all()}
    codes = {r["code"] for r in rows}
    for line, r in enumerate(rows, start=2):
        if not r["code"] or not r["name"]:
            problems.append(f"строка {line}: пустой код или название")
        if r["kind"] not in TerritoryKind.values:
            problems.append(f"строка {line}: неизвестный тип «{r['kind']}»")
        parent = r.get("parent_code", "")
        if parent and parent not in known and parent not in codes:
            problems.append(f"строка {line}: неизвестная вышестоящая территория «{parent}»")
    if problems:
        raise ImportFailed(problems)
    with transaction.atomic():
        pending = list(rows)
        while pending:  # parents before children, whatever the order of the file
            ready = [r for r in pending if not r.get("parent_code") or r["parent_code"] in known]
            if not ready:
                raise ImportFailed([f"цикл во вложенности: {', '.join(r['code'] for r in pending[:5])}"])
            for r in ready:
                territory = known.get(r["code"]) or Territory(code=r["code"])
                territory.name, territory.kind, territory.oktmo = r["name"], r["kind"], r.get("oktmo", "")
                territory.parent = known.get(r.get("parent_code", ""))
                territory.save()
                known[r["code"]] = territory
            pending = [r for r in pending if r not in ready]
    return len(rows)


def import_organisations(text: str) -> int:
    rows = _rows(text, {"name", "kind"})
    problems = []
    territories = {t.code: t for t in Territory.objects.all()}
    existing = {o.name: o for o in Organisation.objects.all()}
    names = {r["name"] for r in rows}
    for line, r in enumerate(rows, start=2):
        if not r["name"]:
            problems.append(f"строка {line}: пустое название")
        if r["kind"] not in OrganisationKind.values:
            problems.append(f"строка {line}: неизвестный тип «{r['kind']}»")
        if r.get("parent") and r["parent"] not in existing and r["parent"] not in names:
            problems.append(f"строка {line}: неизвестная вышестоящая организация «{r['parent']}»")
        for code in filter(None, r.get("territories", "").split(";")):
            if code.strip() not in territories:
                problems.append(f"строка {line}: неизвестная территория «{code.strip()}»")
    if problems:
        raise ImportFailed(problems)
    with transaction.atomic():
        for r in sorted(rows, key=lambda r: bool(r.get("parent"))):
            organisation = existing.get(r["name"]) or Organisation(name=r["name"])
            organisation.kind, organisation.short_name = r["kind"], r.get("short_name", "")
            organisation.inn, organisation.email = r.get("inn", ""), r.get("email", "")
            organisation.parent = existing.get(r.get("parent", ""))
            organisation.save()
            existing[r["name"]] = organisation
            codes = [c.strip() for c in r.get("territories", "").split(";") if c.strip()]
            organisation.territories.set([territories[c] for c in codes])
    return len(rows)


def import_buildings(text: str) -> int:
    rows = _rows(text, {"address", "territory"})
    problems = []
    territories = {t.code: t for t in Territory.objects.all()}
    companies = {o.name: o for o in Organisation.objects.filter(kind=OrganisationKind.MANAGEMENT_COMPANY)}
    prepared = []
    for line, r in enumerate(rows, start=2):
        latitude = _float(r.get("latitude", ""), line, "широта", problems)
        longitude = _float(r.get("longitude", ""), line, "долгота", problems)
        if (
            latitude is not None
            and not -90 <= latitude <= 90
            or longitude is not None
            and not -180 <= longitude <= 180
        ):
            problems.append(f"строка {line}: координаты вне диапазона")
        if not r["address"]:
            problems.append(f"строка {line}: пустой адрес")
        if r["territory"] not in territories:
            problems.append(f"строка {line}: неизвестная территория «{r['territory']}»")
        kind = r.get("kind") or PlaceKind.BUILDING
        if kind not in PlaceKind.values:
            problems.append(f"строка {line}: неизвестный вид «{kind}»")
        company = r.get("management_company", "")
        if company and company not in companies:
            problems.append(f"строка {line}: неизвестная управляющая организация «{company}»")
        prepared.append((r, latitude, longitude, kind, company))
    if problems:
        raise ImportFailed(problems)
    with transaction.atomic():
        for r, latitude, longitude, kind, company in prepared:
            Building.objects.update_or_create(
                address_key=Building.key_for(r["address"]),
                defaults={
                    "address": r["address"],
                    "latitude": latitude,
                    "longitude": longitude,
                    "territory": territories[r["territory"]],
                    "kind": kind,
                    "management_company": companies.get(company),
                },
            )
    return len(rows)


IMPORTERS: dict[str, Callable[[str], int]] = {
    "territories": import_territories,
    "organisations": import_organisations,
    "buildings": import_buildings,
}
