"""What the region keeps about answers: templates per topic, and where an executor's answer waits
for a reviewer before the citizen sees it. Imported by tsur.appeals.models (Django finds models there)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from tsur.core.models import Organisation


class AnswerTemplate(models.Model):
    """A starting text for an answer, per topic (or for any topic when none is set). Placeholders in
    braces are filled from the appeal: {номер}, {дата}, {организация}, {срок}, {имя}."""

    topic = models.ForeignKey(
        "appeals.Topic",
        verbose_name=_("тема"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="answer_templates",
    )
    name = models.CharField(_("название"), max_length=200)
    text = models.TextField(_("текст"))
    order = models.PositiveIntegerField(_("порядок"), default=100)
    is_active = models.BooleanField(_("действует"), default=True)

    class Meta:
        verbose_name = _("шаблон ответа")
        verbose_name_plural = _("шаблоны ответов")
        ordering = ["order", "name"]

    def __str__(self):
        return self.name


class ReviewRule(models.Model):
    """Answers on this topic, or from this organisation (with its subordinates), or both, wait for an
    operator's approval before the citizen sees them. A rule with neither covers every answer."""

    topic = models.ForeignKey(
        "appeals.Topic", verbose_name=_("тема"), null=True, blank=True, on_delete=models.CASCADE
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("организация"), null=True, blank=True, on_delete=models.CASCADE
    )
    is_active = models.BooleanField(_("действует"), default=True)
    note = models.CharField(_("примечание"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("проверка ответов")
        verbose_name_plural = _("проверка ответов")

    def __str__(self):
        what = self.topic or _("любая тема")
        who = self.organisation or _("любая организация")
        return f"{what} / {who}"
