"""Widgets of the workspace's forms.

Django writes each <option> of a select through a template of its own: for the console's filters
(some 300 topics, the territories, the organisations: about a thousand options) that was most of
the page's time. `QuickSelect` writes the same HTML in Python, escaped the same way."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe


class QuickSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"{}>', widget["name"], flatatt(widget["attrs"]))]
        for group, options, _index in widget["optgroups"]:
            rows = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((str(o["value"]), flatatt(o["attrs"]), str(o["label"])) for o in options),
            )
            parts.append(format_html('<optgroup label="{}">{}</optgroup>', group, rows) if group else rows)
        parts.append(mark_safe("</select>"))  # noqa: S308 - a closing tag of our own
        return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped by format_html
