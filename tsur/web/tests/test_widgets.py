"""QuickSelect writes what Django's Select writes, escaped the same way."""

from django import forms
from django.test import SimpleTestCase

from tsur.web.widgets import QuickSelect

CHOICES = [
    ("", "любой"),
    ("a", "Дороги"),
    ("b&c", '<script>alert("x")</script>'),
    ("Группа", [("g1", "внутри 1"), ("g2", "внутри «2»")]),
]


class QuickSelectTest(SimpleTestCase):
    def test_the_same_html_as_django_s_select_for_every_value(self):
        for value in ["", "a", "b&c", "g2", None, "нет такого"]:
            attrs = {"id": "id_topic", "aria-label": "Тема"}
            quick = QuickSelect(choices=CHOICES).render("topic", value, attrs)
            django = forms.Select(choices=CHOICES).render("topic", value, attrs)
            self.assertHTMLEqual(quick, django)

    def test_text_in_a_label_stays_text(self):
        html = QuickSelect(choices=CHOICES).render("topic", "")
        self.assertNotIn("<script>", html)
        self.assertIn("&lt;script&gt;", html)
