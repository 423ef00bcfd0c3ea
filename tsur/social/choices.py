from django.db import models
from django.utils.translation import gettext_lazy as _


class Network(models.TextChoices):
    VK = "vk", _("ВКонтакте")
    TELEGRAM = "telegram", _("Telegram")
    OK = "ok", _("Одноклассники")


class PostKind(models.TextChoices):
    POST = "post", _("Публикация")
    COMMENT = "comment", _("Комментарий")


class Label(models.TextChoices):
    """What a post is, for the center: only complaints (and questions) become incidents."""

    COMPLAINT = "complaint", _("Жалоба")
    QUESTION = "question", _("Вопрос")
    THANKS = "thanks", _("Благодарность")
    OTHER = "other", _("Прочее")
    ABUSE = "abuse", _("Оскорбления, спам")


ACTIONABLE = frozenset({Label.COMPLAINT, Label.QUESTION})


class LabelledBy(models.TextChoices):
    RULE = "rule", _("Правило")
    MODEL = "model", _("Модель")
    MODERATOR = "moderator", _("Модератор")


class ReplyState(models.TextChoices):
    PENDING = "pending", _("Ждёт отправки")
    POSTED = "posted", _("Опубликован")
    REFUSED = "refused", _("Отклонён соцсетью")
    DELETED = "deleted", _("Публикация удалена")
    FAILED = "failed", _("Не удалось отправить")


FINAL_REPLY_STATES = frozenset({ReplyState.POSTED, ReplyState.REFUSED, ReplyState.DELETED, ReplyState.FAILED})
