"""The API's JSON parser: a body nobody's client would send is a 400 with a clear message, never a 500.

DRF's parser turns only `ValueError` into a 400; JSON nested a thousand levels deep raises
`RecursionError` inside `json.load` (and nested a few hundred levels it would pass the parser and
then exhaust the stack in whatever walks it: a serializer, `repr`, a log line). So the depth is
checked on the raw bytes first, in C-speed passes, and anything deeper than `MAX_DEPTH` is refused
before it is parsed.
"""

import re

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

# No request of this API nests deeper than a handful of levels; GeoJSON-like extras stay well below.
MAX_DEPTH = 32
# A JSON string with its escapes: brackets inside strings do not nest anything.
STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
BRACKETS = re.compile(rb"[\[\]{}]")
OPENING = frozenset(b"[{")

MALFORMED = "Тело запроса — не JSON в кодировке UTF-8: {error}."
TOO_DEEP = "Тело запроса вложено глубже {depth} уровней: такой JSON не принимается."


def too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects in `raw` nest deeper than `limit` (malformed JSON is left to the
    parser, which has the better message)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:  # the usual body: nothing to walk
        return False
    depth = 0
    for bracket in BRACKETS.findall(STRING.sub(b"", raw)):
        if bracket[0] in OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with the depth refused before parsing and every failure a 400 in Russian."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        if too_deep(raw):
            raise ParseError(TOO_DEEP.format(depth=MAX_DEPTH))
        try:
            text = raw.decode(encoding)
            parse_constant = json.strict_constant if self.strict else None
            return json.loads(text, parse_constant=parse_constant)
        except (ValueError, RecursionError, LookupError) as error:
            # UnicodeDecodeError is a ValueError; RecursionError only if MAX_DEPTH were raised too far
            raise ParseError(MALFORMED.format(error=error)) from error
