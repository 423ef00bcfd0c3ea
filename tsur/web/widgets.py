"""Widgets of the workspace's forms.

Django writes each <option> of a select through a dictionary of its own (`optgroups`,
`create_option`) and a template: for the console's filters and bulk forms (some 300 topics, the
territories, the organisations, twice over: about two thousand options) that was most of the page's
time. `QuickSelect` writes the same HTML straight from the choices, escaped the same way; the
options remembered by `tsur.web.options` (the same list object while it is kept) are written once
per list, empty label and language, and only the chosen one is marked on each page."""

import threading

from django import forms
from django.forms.utils import flatatt
from django.utils import translation
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe


def _option(value, label, selected: bool = False) -> str:
    value = "" if value is None else str(value)
    return (
        f'<option value="{conditional_escape(value)}"{" selected" if selected else ""}>'
        f"{conditional_escape(label)}</option>"
    )


class _Written:
    """The options' HTML per remembered list: {(list's id, empty label, language): (list, html)}.
    An entry whose list was replaced (read again) is written again; at most a few lists live."""

    def __init__(self, max_items: int = 64):
        self.max_items = max_items
        self._kept: dict[tuple, tuple[list, str]] = {}
        self._lock = threading.Lock()

    def html(self, pairs: list, empty_label) -> str:
        key = (id(pairs), None if empty_label is None else str(empty_label), translation.get_language())
        kept = self._kept.get(key)
        if kept is not None and kept[0] is pairs:
            return kept[1]
        head = "" if empty_label is None else _option("", empty_label)
        html = head + "".join(_option(value, label) for value, label in pairs)
        with self._lock:
            if len(self._kept) >= self.max_items:
                self._kept = {}
            self._kept[key] = (pairs, html)  # the list is held, so its id is not reused meanwhile
        return html


WRITTEN = _Written()


class QuickSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        chosen = [str(v) for v in self.format_value(value)]
        head = format_html('<select name="{}"{}>', name, flatatt(self.build_attrs(self.attrs, attrs)))
        remembered = getattr(self.choices, "remembered", None)
        if remembered is not None and len(chosen) <= 1:
            pairs, empty_label = remembered()
            options = WRITTEN.html(pairs, empty_label)
            if chosen:
                # like Django's Select: only the first option with the value is selected
                plain = f'<option value="{conditional_escape(chosen[0])}">'
                options = options.replace(plain, plain[:-1] + " selected>", 1)
            return mark_safe(f"{head}{options}</select>")  # noqa: S308 - written escaped by _option
        return mark_safe(f"{head}{self._options(set(chosen))}</select>")  # noqa: S308 - escaped below

    def _options(self, chosen: set[str]) -> str:
        found = False  # like Django's Select: only the first option with the value is selected

        def option(option_value, label) -> str:
            nonlocal found
            selected = not found and ("" if option_value is None else str(option_value)) in chosen
            found = found or selected
            return _option(option_value, label, selected)

        parts = []
        for option_value, label in self.choices:
            if isinstance(label, (list, tuple)):
                parts.append(format_html('<optgroup label="{}">', option_value))
                parts.extend(option(v, sub) for v, sub in label)
                parts.append("</optgroup>")
            else:
                parts.append(option(option_value, label))
        return "".join(parts)
