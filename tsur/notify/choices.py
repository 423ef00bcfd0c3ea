from django.db import models
from django.utils.translation import gettext_lazy as _


class ChannelKind(models.TextChoices):
    EMAIL = "email", _("электронная почта")
    WEBHOOK = "webhook", _("веб-хук с подписью")
    TELEGRAM = "telegram", _("бот в мессенджере")


class Topic(models.TextChoices):
    """What a notice is about: services subscribe to the dispatch topics; appeal notices go to the
    addresses the register names (the organisation, its supervisors, the citizen); a spike of
    appeals to the analysts and the territory's supervisors (tsur.analytics.anomalies)."""

    ALARM_RAISED = "alarm_raised", _("тревога на объекте")
    OUTAGE_OPENED = "outage_opened", _("аварийное отключение")
    OUTAGE_ENDED = "outage_ended", _("отключение устранено")
    APPEAL = "appeal", _("событие обращения")
    ANOMALY = "anomaly", _("всплеск обращений")
    REPORT = "report", _("еженедельный доклад")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("ожидает отправки")
    SENT = "sent", _("доставлено")
    RETRYING = "retrying", _("повтор после ошибки")
    FAILED = "failed", _("не доставлено")


class Severity(models.TextChoices):
    """How urgent a notice is; subscriptions ask for notices from some level up. Dispatch rates its
    alarms on the same scale."""

    INFO = "info", _("информация")
    WARNING = "warning", _("предупреждение")
    CRITICAL = "critical", _("авария")


SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
