"""Free text a person typed, checked once in the domain before it is stored anywhere."""

import re

from django.conf import settings

from .errors import DomainError

HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")


def clean_text(text, *, field: str = "text", required: bool = True, limit: int | None = None) -> str:
    """The text stripped of NULs and surrounding blanks; a clear refusal when it is empty (and must
    not be), too long, not text at all, or carries markup."""
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise DomainError("Ожидается текст.", field=field)
    text = text.replace("\x00", "").strip()
    limit = limit or settings.TSUR["TEXT_MAX_CHARS"]
    if required and not text:
        raise DomainError("Текст не может быть пустым.", field=field)
    if len(text) > limit:
        raise DomainError(f"Текст длиннее {limit} символов.", field=field)
    if HTML_TAG.search(text):
        raise DomainError("Текст не должен содержать HTML-разметку.", field=field)
    return text
