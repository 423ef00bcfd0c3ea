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


class RememberedOptionsTest(SimpleTestCase):
    """A field whose options `tsur.web.options` keeps: written once per list, the chosen one marked
    on each page, the same HTML as Django's Select of the same choices."""

    PAIRS = [("1", "Дороги"), ("2", 'ЖКХ <b>"горячая"</b> & вода'), ("3", "Дороги")]

    def field(self, remembered, empty_label="любая"):
        from tsur.core.models import Territory
        from tsur.web.options import RememberedChoiceField

        return RememberedChoiceField(
            queryset=Territory.objects.none(), options=remembered, empty_label=empty_label, required=False
        )

    def remembered(self, pairs):
        from tsur.core.memo import Remembered

        return Remembered(lambda: pairs, ttl=3600)

    def test_the_same_html_as_django_s_select_whatever_is_chosen(self):
        field = self.field(self.remembered(self.PAIRS))
        choices = [("", "любая"), *self.PAIRS]
        for value in ["", None, "1", "2", "3", "нет такого", '"><script>']:
            quick = field.widget.render("territory", value, {"id": "id_territory"})
            django = forms.Select(choices=choices).render("territory", value, {"id": "id_territory"})
            self.assertHTMLEqual(quick, django)

    def test_one_option_is_selected_and_the_next_page_starts_clean(self):
        field = self.field(self.remembered(self.PAIRS))
        self.assertEqual(field.widget.render("t", "2").count(" selected"), 1)
        self.assertNotIn(" selected", field.widget.render("t", "нет такого"))
        self.assertIn('<option value="" selected>', field.widget.render("t", None))

    def test_a_list_read_again_is_written_again(self):
        pairs = list(self.PAIRS)
        remembered = self.remembered(pairs)
        field = self.field(remembered)
        self.assertNotIn("Новая", field.widget.render("t", ""))
        remembered._load = lambda: [*pairs, ("4", "Новая")]
        remembered.forget()
        self.assertIn('<option value="4">Новая</option>', field.widget.render("t", ""))

    def test_each_empty_label_its_own(self):
        remembered = self.remembered(self.PAIRS)
        self.assertIn(">любая<", self.field(remembered).widget.render("t", ""))
        self.assertIn(">не менять<", self.field(remembered, "не менять").widget.render("t", ""))
        self.assertNotIn('value=""', self.field(remembered, None).widget.render("t", "1"))
