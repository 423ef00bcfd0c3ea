from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    PORTAL = "portal", _("Портал")
    APP = "app", _("Мобильное приложение")
    OPEN311 = "open311", _("Open311")
    HOTLINE = "hotline", _("Горячая линия")
    SOCIAL = "social", _("Социальные сети")
    AGENCY = "agency", _("Ведомство")
    MUNICIPALITY = "municipality", _("Муниципалитет")
    EMAIL = "email", _("Электронная почта")
    IMPORT = "import", _("Импорт")


class Status(models.TextChoices):
    REGISTERED = "registered", _("Зарегистрировано")
    MODERATION = "moderation", _("На модерации")
    ASSIGNED = "assigned", _("Назначено исполнителю")
    IN_WORK = "in_work", _("В работе")
    CLARIFICATION = "clarification", _("Запрошено уточнение")
    INTERIM = "interim", _("Промежуточный ответ")
    REVIEW = "review", _("Ответ на проверке")
    ANSWERED = "answered", _("Дан ответ")
    CLOSED = "closed", _("Закрыто")
    REJECTED = "rejected", _("Отклонено")
    MERGED = "merged", _("Объединено с другим")


FINAL_STATUSES = frozenset({Status.CLOSED, Status.REJECTED, Status.MERGED})
# Statuses in which the resolution clock runs against the responsible organisation.
RUNNING_STATUSES = frozenset(
    {Status.REGISTERED, Status.MODERATION, Status.ASSIGNED, Status.IN_WORK, Status.INTERIM, Status.REVIEW}
)


class Priority(models.TextChoices):
    LOW = "low", _("Низкий")
    NORMAL = "normal", _("Обычный")
    HIGH = "high", _("Высокий")
    CRITICAL = "critical", _("Критический")


class DeadlineUnit(models.TextChoices):
    HOURS = "hours", _("часов")
    WORKING_DAYS = "working_days", _("рабочих дней")
    CALENDAR_DAYS = "calendar_days", _("календарных дней")


class DeadlineState(models.TextChoices):
    OK = "ok", _("В срок")
    SOON = "soon", _("Срок истекает")
    OVERDUE = "overdue", _("Просрочено")


class CloseReason(models.TextChoices):
    SATISFIED = "satisfied", _("Пользователь удовлетворён решением")
    CONTROLLER = "controller", _("Контролёр подтвердил решение")
    AUTO = "auto", _("Автоматически")


class EventKind(models.TextChoices):
    REGISTERED = "registered", _("Зарегистрировано")
    SENT_TO_MODERATION = "sent_to_moderation", _("Направлено на модерацию")
    ASSIGNED = "assigned", _("Назначено исполнителю")
    TAKEN = "taken", _("Принято в работу")
    CLARIFICATION_REQUESTED = "clarification_requested", _("Запрошено уточнение")
    CITIZEN_REPLIED = "citizen_replied", _("Гражданин ответил")
    INTERIM_ANSWER = "interim_answer", _("Промежуточный ответ")
    ANSWERED = "answered", _("Дан ответ")
    CLOSED = "closed", _("Закрыто")
    REOPENED = "reopened", _("Возобновлено")
    REJECTED = "rejected", _("Отклонено")
    REDIRECTED = "redirected", _("Перенаправлено")
    MERGED = "merged", _("Объединено как дубликат")
    DUPLICATE_ATTACHED = "duplicate_attached", _("Присоединён дубликат")
    EXTENDED = "extended", _("Срок продлён")
    DEADLINE_SOON = "deadline_soon", _("Срок истекает")
    OVERDUE = "overdue", _("Просрочено")
    ESCALATED = "escalated", _("Эскалация руководителю")
    OUTAGE_LINKED = "outage_linked", _("Связано с аварийным отключением")
    PHOTO_ADDED = "photo_added", _("Добавлено фото")
    COMPLAINT_LINKED = "complaint_linked", _("Жалоба по книге жалоб")
    UNDERSTOOD = "understood", _("Распознано по тексту")
    COMMENTED = "commented", _("Комментарий заявителя")
    PERSONAL_DATA_ERASED = "personal_data_erased", _("Персональные данные обезличены")
    ANSWER_SUBMITTED = "answer_submitted", _("Ответ направлен на проверку")
    ANSWER_APPROVED = "answer_approved", _("Ответ одобрен")
    ANSWER_RETURNED = "answer_returned", _("Ответ возвращён на доработку")
    PRIORITY_CHANGED = "priority_changed", _("Изменён приоритет")
    REASSIGNED = "reassigned", _("Передано другому сотруднику")
    SUBSCRIBED = "subscribed", _("Присоединился заявитель")
    RATED = "rated", _("Оценка ответа")
    # social monitoring: a post about the same problem joined the incident; the answer under a post
    POST_ATTACHED = "post_attached", _("Присоединена публикация")
    REPLY_DELIVERED = "reply_delivered", _("Ответ в соцсети")


class ConsentSource(models.TextChoices):
    """Who recorded the citizen's consent to the processing of their personal data (152-ФЗ)."""

    CITIZEN = "citizen", _("Гражданин при подаче")
    OPERATOR = "operator", _("Оператор со слов гражданина")
    SYSTEM = "system", _("Информационная система, принявшая обращение")


class AccessInterface(models.TextChoices):
    API = "api", _("REST API")
    ADMIN = "admin", _("Администрирование")
    EXPORT = "export", _("Выгрузка CSV/XLSX")
