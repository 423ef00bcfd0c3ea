"""The appeal register: rubricator, routing rules, appeals with their timeline, the complaint book."""

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tsur.core.choices import PlaceKind
from tsur.core.models import Building, Organisation, Territory, User
from tsur.core.scopes import AUTHOR, VIEW, RestrictedQuerySet

from . import policies
from .choices import (
    FINAL_STATUSES,
    AccessInterface,
    Channel,
    CloseReason,
    ConsentSource,
    DeadlineState,
    DeadlineUnit,
    EventKind,
    Priority,
    Status,
)

# what the open appeals' covering index holds ("id": what Count("pk") reads)
OPEN_DEADLINES = ["id", "resolution_due", "first_response_due", "first_responded_at", "registered_at"]
OPEN_PLACE = ["organisation", "territory", "topic", "latitude", "longitude"]


class ThematicBlock(models.Model):
    """The upper level of the rubricator: a sphere of life such as «ЖКХ» or «Транспорт и дороги»."""

    code = models.SlugField(_("код"), max_length=64, unique=True)
    name = models.CharField(_("название"), max_length=200)
    order = models.PositiveIntegerField(_("порядок"), default=100)
    is_active = models.BooleanField(_("действует"), default=True)

    class Meta:
        verbose_name = _("тематический блок")
        verbose_name_plural = _("тематические блоки")
        ordering = ["order", "name"]

    def __str__(self):
        return self.name


class Topic(models.Model):
    """A topic of appeals inside a block, with the regulation of its deadlines."""

    block = models.ForeignKey(
        ThematicBlock, verbose_name=_("блок"), on_delete=models.PROTECT, related_name="topics"
    )
    code = models.SlugField(_("код"), max_length=64, unique=True)
    name = models.CharField(_("название"), max_length=400)
    # The rubric of the source system (a region's own category), kept for import and model training.
    category = models.CharField(_("рубрика источника"), max_length=200, blank=True)
    first_response_amount = models.PositiveIntegerField(
        _("первый ответ: срок"), default=3, validators=[MinValueValidator(1)]
    )
    first_response_unit = models.CharField(
        _("первый ответ: единица"),
        max_length=16,
        choices=DeadlineUnit.choices,
        default=DeadlineUnit.WORKING_DAYS,
    )
    resolution_amount = models.PositiveIntegerField(
        _("решение: срок"), default=10, validators=[MinValueValidator(1)]
    )
    resolution_unit = models.CharField(
        _("решение: единица"), max_length=16, choices=DeadlineUnit.choices, default=DeadlineUnit.WORKING_DAYS
    )
    priority = models.CharField(
        _("приоритет"), max_length=16, choices=Priority.choices, default=Priority.NORMAL
    )
    complaint_book = models.BooleanField(
        _("через книгу жалоб"),
        default=False,
        help_text=_(
            "Жалоба на управляющую организацию принимается только с номером невыполненной в срок заявки."
        ),
    )
    place_kinds = models.JSONField(_("виды мест"), default=list, blank=True)
    keywords = models.JSONField(_("ключевые слова"), default=list, blank=True)
    is_active = models.BooleanField(_("действует"), default=True)

    class Meta:
        verbose_name = _("тема")
        verbose_name_plural = _("темы")
        ordering = ["block__order", "name"]

    def __str__(self):
        return self.name


class TopicQuestion(models.Model):
    """A question asked when an appeal on the topic is filed (Open311 service attributes): «Какой
    контейнер?» with a list of answers, «Сколько ям?» as a number."""

    class Datatype(models.TextChoices):
        STRING = "string", _("строка")
        NUMBER = "number", _("число")
        DATETIME = "datetime", _("дата и время")
        TEXT = "text", _("текст")
        SINGLE = "singlevaluelist", _("один из списка")
        MULTI = "multivaluelist", _("несколько из списка")

    topic = models.ForeignKey(
        Topic, verbose_name=_("тема"), on_delete=models.CASCADE, related_name="questions"
    )
    code = models.SlugField(_("код"), max_length=64)
    description = models.CharField(_("вопрос"), max_length=400)
    datatype = models.CharField(
        _("тип ответа"), max_length=16, choices=Datatype.choices, default=Datatype.STRING
    )
    datatype_description = models.CharField(_("пояснение к ответу"), max_length=200, blank=True)
    required = models.BooleanField(_("обязательный"), default=False)
    order = models.PositiveIntegerField(_("порядок"), default=1)
    # [{"key": "...", "name": "..."}] for the list types
    values = models.JSONField(_("варианты ответа"), default=list, blank=True)

    class Meta:
        verbose_name = _("вопрос по теме")
        verbose_name_plural = _("вопросы по теме")
        ordering = ["topic", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["topic", "code"], name="topic_question_code")]

    def __str__(self):
        return self.description


class RoutingRule(models.Model):
    """Sends appeals on a topic (or a whole block), on a territory, at a kind of place or a building,
    to an organisation or to the building's management company. The most specific matching rule wins;
    among equally specific ones, the higher priority."""

    topic = models.ForeignKey(Topic, verbose_name=_("тема"), null=True, blank=True, on_delete=models.CASCADE)
    block = models.ForeignKey(
        ThematicBlock, verbose_name=_("блок"), null=True, blank=True, on_delete=models.CASCADE
    )
    territory = models.ForeignKey(
        Territory, verbose_name=_("территория"), null=True, blank=True, on_delete=models.CASCADE
    )
    place_kind = models.CharField(_("вид места"), max_length=32, choices=PlaceKind.choices, blank=True)
    building = models.ForeignKey(
        Building, verbose_name=_("здание"), null=True, blank=True, on_delete=models.CASCADE
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("организация"), null=True, blank=True, on_delete=models.CASCADE
    )
    to_management_company = models.BooleanField(_("в управляющую организацию здания"), default=False)
    priority = models.IntegerField(_("приоритет"), default=0)
    note = models.CharField(_("примечание"), max_length=300, blank=True)
    is_active = models.BooleanField(_("действует"), default=True)
    # what the register's history says of the rule (`tsur routing_measure`): of the appeals it would
    # route, the share that the organisation it names took up; a rule never measured has none
    measured_precision = models.FloatField(_("измеренная точность"), null=True, blank=True, editable=False)
    measured_support = models.PositiveIntegerField(_("обращений в измерении"), default=0, editable=False)
    measured_at = models.DateTimeField(_("измерено"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("правило маршрутизации")
        verbose_name_plural = _("правила маршрутизации")
        constraints = [
            models.CheckConstraint(
                condition=Q(organisation__isnull=False) | Q(to_management_company=True),
                name="routing_rule_has_target",
            )
        ]

    def __str__(self):
        what = self.topic or self.block or _("любая тема")
        where = self.building or self.territory or _("весь регион")
        target = self.organisation or _("управляющая организация здания")
        return f"{what} / {where} → {target}"


class AppealQuerySet(RestrictedQuerySet):
    """Appeals as a user may see or act on them (`restrict(user, action)`, actions and roles from
    tsur.appeals.policies), and as the public may see them (`published`)."""

    scope_lookups = {"organisation": "organisation", "territory": "territory", "author": "author"}
    action_roles = {**policies.ACTION_ROLES, "see_personal_data": policies.PERSONAL_DATA_ROLES | {AUTHOR}}

    def also_reached_by(self, user, action: str) -> Q:
        # what one filed (an agency's system, an operator at the hotline) stays visible to them
        return Q(submitted_by=user.pk) if action == VIEW else Q(pk__in=[])

    def published(self, viewer=None):
        """What anybody may see: appeals accepted and not refused (policies.UNPUBLISHED_STATUSES),
        and the viewer's own (a user, or the account of an Open311 client)."""
        condition = ~Q(status__in=policies.UNPUBLISHED_STATUSES)
        if viewer is not None and viewer.is_authenticated:
            condition |= Q(submitted_by=viewer.pk) | Q(author=viewer.pk)
        return self.filter(condition)


class Appeal(models.Model):
    """One problem raised by a resident through any channel, from registration to closure."""

    number = models.CharField(_("номер"), max_length=20)
    channel = models.CharField(_("канал"), max_length=16, choices=Channel.choices)
    external_id = models.CharField(_("идентификатор в канале"), max_length=128, blank=True)
    # What makes a submission "the same" for idempotent intake: the channel id within one submitter
    # (two agencies may both number their requests from 1), or, for anonymous senders, the id
    # together with the text, so that nobody can reach another person's appeal by guessing an id.
    # NULL, not "": most appeals have no key, and the unique constraint allows any number of NULLs
    intake_key = models.CharField(max_length=200, null=True, blank=True, editable=False)  # noqa: DJ001
    submitted_by = models.ForeignKey(
        User, verbose_name=_("кем подано"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author = models.ForeignKey(
        User,
        verbose_name=_("автор"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="appeals",
    )
    # Personal data (152-ФЗ): shown only to those entitled, see tsur.appeals.policies.
    author_name = models.CharField(_("имя автора"), max_length=200, blank=True)
    author_email = models.EmailField(_("e-mail автора"), blank=True)
    author_phone = models.CharField(_("телефон автора"), max_length=32, blank=True)
    # When and by whom the citizen's consent to processing was recorded (tsur.appeals.consent);
    # none for appeals registered on the strength of 59-ФЗ alone (systems, imports, old appeals).
    consent_at = models.DateTimeField(_("согласие на обработку ПДн"), null=True, blank=True)
    consent_source = models.CharField(
        _("кто зафиксировал согласие"), max_length=16, choices=ConsentSource.choices, blank=True
    )
    # Set by actions.erase_personal_data: the appeal stays for statistics, its person is gone.
    personal_data_erased_at = models.DateTimeField(_("ПДн обезличены"), null=True, blank=True)

    text = models.TextField(_("текст"))
    address = models.CharField(_("адрес"), max_length=400, blank=True)
    latitude = models.FloatField(_("широта"), null=True, blank=True)
    longitude = models.FloatField(_("долгота"), null=True, blank=True)
    territory = models.ForeignKey(
        Territory, verbose_name=_("территория"), null=True, blank=True, on_delete=models.PROTECT
    )
    building = models.ForeignKey(  # indexed with the time, below
        Building, verbose_name=_("здание"), null=True, blank=True, on_delete=models.PROTECT, db_index=False
    )
    place_kind = models.CharField(_("вид места"), max_length=32, choices=PlaceKind.choices, blank=True)

    topic = models.ForeignKey(Topic, verbose_name=_("тема"), null=True, blank=True, on_delete=models.PROTECT)
    organisation = models.ForeignKey(  # indexed with the status, below
        Organisation,
        verbose_name=_("ответственная организация"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
    )
    routing_rule = models.ForeignKey(
        RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    routing_reason = models.CharField(_("основание маршрутизации"), max_length=400, blank=True)
    priority = models.CharField(
        _("приоритет"), max_length=16, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(_("статус"), max_length=16, choices=Status.choices, default=Status.REGISTERED)

    registered_at = models.DateTimeField(_("зарегистрировано"))
    # When the current organisation's legal clock started: registration, or the last redirection.
    clock_started_at = models.DateTimeField(_("начало отсчёта срока"))
    first_response_due = models.DateTimeField(_("срок первого ответа"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("срок решения"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("первый ответ"), null=True, blank=True)
    answered_at = models.DateTimeField(_("ответ дан"), null=True, blank=True)
    closed_at = models.DateTimeField(_("закрыто"), null=True, blank=True)
    close_reason = models.CharField(
        _("основание закрытия"), max_length=16, choices=CloseReason.choices, blank=True
    )
    planned_at = models.DateTimeField(_("плановая дата решения"), null=True, blank=True)
    paused_since = models.DateTimeField(_("срок приостановлен с"), null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(_("время на паузе, с"), default=0)
    extension_reason = models.CharField(_("основание продления"), max_length=400, blank=True)
    deadline_state = models.CharField(
        _("состояние срока"), max_length=8, choices=DeadlineState.choices, default=DeadlineState.OK
    )
    reopen_count = models.PositiveIntegerField(_("повторных открытий"), default=0)
    # the person in the organisation who works on it (who took it, or whom the supervisor named)
    assignee = models.ForeignKey(
        User,
        verbose_name=_("исполнитель"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # the author's private link (/a/<number>/<key>/) opens the appeal without an account; only its
    # SHA-256 is kept, so the register never holds a working link
    access_key_hash = models.CharField(max_length=64, blank=True, editable=False)
    rating = models.PositiveSmallIntegerField(_("оценка ответа"), null=True, blank=True)
    rating_comment = models.TextField(_("отзыв об ответе"), blank=True)
    rated_at = models.DateTimeField(_("оценено"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("дубликат обращения"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
    )
    complaint_ticket = models.ForeignKey(
        "ComplaintTicket",
        verbose_name=_("заявка из книги жалоб"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="escalations",
    )
    # answers to the topic's questions, {code: value or [values]}
    attributes = models.JSONField(_("ответы на вопросы темы"), default=dict, blank=True)
    media_url = models.URLField(_("ссылка на фото или видео"), max_length=1000, blank=True)
    updated_at = models.DateTimeField(_("изменено"), auto_now=True)

    objects = AppealQuerySet.as_manager()

    class Meta:
        verbose_name = _("обращение")
        verbose_name_plural = _("обращения")
        ordering = ["-registered_at", "-pk"]
        # Every index is paid for by each registration: the unique ones as constraints (a unique
        # field would add a second, LIKE-pattern index on PostgreSQL that no query uses), and the
        # building and organisation columns only inside the indexes that lead with them.
        constraints = [
            models.UniqueConstraint(fields=["number"], name="appeal_number_unique"),
            models.UniqueConstraint(fields=["intake_key"], name="appeal_intake_key_unique"),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="appeal_rating_1_5"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "resolution_due"], name="appeal_status_due"),
            models.Index(fields=["organisation", "status"], name="appeal_org_status"),
            # the public map reads the recent ones from this index alone (PostgreSQL: INCLUDE)
            models.Index(
                fields=["registered_at"],
                include=["status", "latitude", "longitude", "topic"],
                name="appeal_registered",
            ),
            # and the open published ones around a point from this one (decision 0013)
            models.Index(
                fields=["latitude", "longitude"],
                include=["topic"],
                condition=Q(status__in=sorted(policies.OPEN_PUBLISHED_STATUSES)),
                name="appeal_open_point",
            ),
            # the open appeals with what the wall and the console's counts read of them: an index-only
            # scan of the open ones, never the rows of a mostly closed register (bench/wall.py)
            models.Index(
                fields=["status"],
                include=[*OPEN_DEADLINES, *OPEN_PLACE],
                condition=Q(status__in=sorted(frozenset(Status.values) - FINAL_STATUSES)),
                name="appeal_open_deadlines",
            ),
            # near-duplicates: appeals around a point, and at a building, among the recent ones
            models.Index(fields=["latitude", "longitude"], name="appeal_point"),
            models.Index(fields=["building", "registered_at"], name="appeal_building_registered"),
        ]

    def __str__(self):
        return self.number

    def get_status_display(self) -> str:  # Django's hashes every choice's (lazy) label each call
        return str(Status(self.status).label) if self.status in Status.values else self.status


class AppealEvent(models.Model):
    """A step on the appeal's timeline: what happened, who did it, when and why. Never changed afterwards."""

    appeal = models.ForeignKey(  # indexed with the time, below
        Appeal, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(_("событие"), max_length=32, choices=EventKind.choices)
    actor = models.ForeignKey(  # indexed where set, below
        User, verbose_name=_("кто"), null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )
    at = models.DateTimeField(_("когда"))
    status_from = models.CharField(max_length=16, choices=Status.choices, blank=True)
    status_to = models.CharField(max_length=16, choices=Status.choices, blank=True)
    # no index: nothing looks events up by it, and each step would pay for one (decision 0035)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("организация"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    reason = models.TextField(_("основание"), blank=True)
    data = models.JSONField(_("данные"), default=dict, blank=True)
    public = models.BooleanField(_("видно гражданину"), default=False)

    class Meta:
        verbose_name = _("событие обращения")
        verbose_name_plural = _("события обращений")
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["appeal", "at"], name="event_appeal_at"),
            models.Index(fields=["kind", "at"], name="event_kind_at"),
            # «my» queue (the appeals one acted on); the system's steps have no actor and stay out
            models.Index(fields=["actor"], condition=Q(actor__isnull=False), name="event_actor"),
        ]

    def __str__(self):
        return f"{self.appeal_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class PersonalDataAccess(models.Model):
    """A member of staff was shown a citizen's name and contacts in an appeal: who, when, which
    appeal, through which interface (152-ФЗ: the operator answers for who had access). Written by
    actions.record_contacts_seen with one statement per response."""

    appeal = models.ForeignKey(  # indexed with the time, below
        Appeal, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    user = models.ForeignKey(
        User, verbose_name=_("кто"), null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    username = models.CharField(_("учётная запись"), max_length=150)  # stays if the account goes
    at = models.DateTimeField(_("когда"))
    interface = models.CharField(_("через"), max_length=16, choices=AccessInterface.choices)

    class Meta:
        verbose_name = _("просмотр персональных данных")
        verbose_name_plural = _("журнал просмотра персональных данных")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["appeal", "at"], name="pd_access_appeal_at"),
            models.Index(fields=["user", "at"], name="pd_access_user_at"),
        ]

    def __str__(self):
        return f"{self.username} → {self.appeal_id} {self.at:%Y-%m-%d %H:%M}"


class Follower(models.Model):
    """Another resident with the same problem who joined an appeal instead of filing a new one
    («подписаться» on the portal, a caller added at the hotline): told of its public steps."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="followers")
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(_("канал"), max_length=16, choices=Channel.choices)
    # personal data (152-ФЗ), shown as the author's are, erased with them
    name = models.CharField(_("имя"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("телефон"), max_length=32, blank=True)
    consent_at = models.DateTimeField(_("согласие на обработку ПДн"), null=True, blank=True)
    consent_source = models.CharField(
        _("кто зафиксировал согласие"), max_length=16, choices=ConsentSource.choices, blank=True
    )
    added_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(_("присоединился"))

    class Meta:
        verbose_name = _("присоединившийся заявитель")
        verbose_name_plural = _("присоединившиеся заявители")
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["appeal", "user"], condition=Q(user__isnull=False), name="follower_once_per_user"
            )
        ]

    def __str__(self):
        return f"{self.appeal_id}: {self.pk}"


def photo_path(instance, filename):
    return f"appeals/{instance.appeal.registered_at:%Y/%m}/{filename}"


class AppealPhoto(models.Model):
    """A photo attached to an appeal by its author or by the organisation with its answer."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to=photo_path)
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("фото")
        verbose_name_plural = _("фото")

    def __str__(self):
        return self.image.name


class NumberCounter(models.Model):
    """The counter behind registration numbers on databases without sequences (SQLite)."""

    key = models.CharField(max_length=32, unique=True)
    value = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"{self.key}: {self.value}"


from .answer_models import AnswerTemplate, ReviewRule  # noqa: E402  (Django finds models here)
from .complaint_models import ComplaintTicket, ComplaintTicketEvent  # noqa: E402
from .regulation_models import ChannelRegulation  # noqa: E402
from .routing_models import RoutingCalibration  # noqa: E402

__all__ = [
    "AnswerTemplate",
    "Appeal",
    "AppealEvent",
    "AppealPhoto",
    "ChannelRegulation",
    "ComplaintTicket",
    "ComplaintTicketEvent",
    "Follower",
    "NumberCounter",
    "PersonalDataAccess",
    "ReviewRule",
    "RoutingCalibration",
    "RoutingRule",
    "ThematicBlock",
    "Topic",
    "TopicQuestion",
]
