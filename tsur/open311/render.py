"""GeoReport v2 documents in XML (required by the spec) and JSON, with the spec's element order."""

import json
import re
from datetime import datetime
from xml.etree import ElementTree as ET

from django.http import HttpResponse
from django.utils import timezone

# the element of each item in a list, by the list's element
ITEM_TAGS = {
    "formats": "format",
    "endpoints": "endpoint",
    "attributes": "attribute",
    "values": "value",
    "notes": "note",
}
CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def text(value) -> str:
    """A value as XML character data; characters XML 1.0 cannot carry are dropped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return w3(value)
    return CONTROL.sub("", str(value))


def w3(moment: datetime | None) -> str:
    """ISO 8601 with the offset, as the spec asks («2026-11-23T10:15:00+03:00»)."""
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else ""


def _append(parent: ET.Element, tag: str, value) -> None:
    element = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, inner in value.items():
            _append(element, key, inner)
    elif isinstance(value, list):
        item_tag = ITEM_TAGS.get(tag, tag.rstrip("s"))
        for inner in value:
            _append(element, item_tag, inner)
    else:
        element.text = text(value)


def _json_value(value):
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, datetime):
        return w3(value)
    return value


def document(fmt: str, root: str, item: str | None, content, status: int = 200) -> HttpResponse:
    """`content` is a list of ordered dicts (rendered as <root><item>…</item></root> or a JSON
    array) or, with item None, one dict (rendered as <root>…</root> or a JSON object)."""
    if fmt == "json":
        body = json.dumps(_json_value(content), ensure_ascii=False)
    else:
        element = ET.Element(root)
        if item is None:
            for key, value in content.items():
                _append(element, key, value)
        else:
            for entry in content:
                _append(element, item, entry)
        body = '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(element, encoding="unicode")
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def errors(fmt: str, status: int, description: str) -> HttpResponse:
    return document(fmt, "errors", "error", [{"code": status, "description": description}], status=status)
