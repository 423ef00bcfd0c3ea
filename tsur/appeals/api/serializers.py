import re

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tsur.core.api.serializers import OrganisationBriefSerializer, PrebuiltFields, TerritoryBriefSerializer
from tsur.core.choices import PlaceKind, Role
from tsur.core.models import Building, Organisation, Territory, User

from .. import policies, public, review
from ..choices import Channel, CloseReason, DeadlineState, Priority, Status
from ..models import Appeal, AppealEvent, RoutingRule, ThematicBlock, Topic
from ..rubricator import topics_by_code


class CodeRelatedField(serializers.SlugRelatedField):
    """A reference by code or number, checked for shape before it reaches the database."""

    def __init__(self, *args, pattern: str = r"^[-a-zA-Z0-9_]{1,64}$", **kwargs):
        self.pattern = re.compile(pattern)
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not self.pattern.match(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data)[:64].replace("\x00", ""))
        return super().to_internal_value(data)


class TerritoryRef(serializers.PrimaryKeyRelatedField):
    # The queryset is a class attribute, not an argument: DRF deep-copies a field's arguments for
    # every serializer it builds, and copying a QuerySet cost more than validating the appeal.
    queryset = Territory.objects.all()


class BuildingRef(serializers.PrimaryKeyRelatedField):
    queryset = Building.objects.all()


class TopicRef(CodeRelatedField):
    """An active topic by its code, from the rubricator remembered in the process (`topics_by_code`)."""

    queryset = Topic.objects.filter(is_active=True)

    def __init__(self, **kwargs):
        super().__init__(slug_field="code", **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and self.pattern.match(data):
            topic = topics_by_code().get(data)
            if topic is not None:
                return topic
        self.fail("does_not_exist", slug_name=self.slug_field, value=str(data)[:64].replace("\x00", ""))


# Channels an anonymous citizen may use; the others belong to systems and staff.
PUBLIC_CHANNELS = (Channel.PORTAL, Channel.APP)


class TopicSerializer(serializers.ModelSerializer):
    block = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Topic
        fields = [
            "id",
            "code",
            "name",
            "block",
            "category",
            "first_response_amount",
            "first_response_unit",
            "resolution_amount",
            "resolution_unit",
            "priority",
            "complaint_book",
            "place_kinds",
            "keywords",
        ]


class ThematicBlockSerializer(serializers.ModelSerializer):
    class Meta:
        model = ThematicBlock
        fields = ["id", "code", "name", "order"]


class RoutingRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = RoutingRule
        fields = [
            "id",
            "topic",
            "block",
            "territory",
            "place_kind",
            "building",
            "organisation",
            "to_management_company",
            "priority",
            "note",
            "is_active",
        ]


class BlockBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class TopicBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    block = BlockBriefSerializer(read_only=True)


class AppealCreateSerializer(PrebuiltFields, serializers.Serializer):
    channel = serializers.ChoiceField(label=_("Канал"), choices=Channel.choices, default=Channel.PORTAL)
    external_id = serializers.CharField(
        label=_("Идентификатор в канале"), max_length=128, required=False, allow_blank=True, default=""
    )
    text = serializers.CharField(
        label=_("Текст обращения"), max_length=settings.TSUR["TEXT_MAX_CHARS"], trim_whitespace=True
    )
    author_name = serializers.CharField(
        label=_("Имя заявителя"), max_length=200, required=False, allow_blank=True, default=""
    )
    author_email = serializers.EmailField(
        label=_("E-mail заявителя"), required=False, allow_blank=True, default=""
    )
    author_phone = serializers.RegexField(
        r"^\+?[0-9 ()\-]{5,20}$", label=_("Телефон заявителя"), required=False, allow_blank=True, default=""
    )
    address = serializers.CharField(
        label=_("Адрес"), max_length=400, required=False, allow_blank=True, default=""
    )
    latitude = serializers.FloatField(
        label=_("Широта"), min_value=-90, max_value=90, required=False, allow_null=True, default=None
    )
    longitude = serializers.FloatField(
        label=_("Долгота"), min_value=-180, max_value=180, required=False, allow_null=True, default=None
    )
    territory = TerritoryRef(label=_("Территория"), required=False, allow_null=True, default=None)
    building = BuildingRef(label=_("Здание"), required=False, allow_null=True, default=None)
    place_kind = serializers.ChoiceField(
        label=_("Вид места"), choices=PlaceKind.choices, required=False, allow_blank=True, default=""
    )
    topic = TopicRef(label=_("Тема"), required=False, allow_null=True, default=None)
    complaint_ticket_number = serializers.CharField(
        label=_("Номер заявки в книге жалоб"), max_length=64, required=False, allow_blank=True, default=""
    )
    photos = serializers.ListField(
        label=_("Фото"),
        child=serializers.FileField(),
        required=False,
        default=list,
        max_length=settings.TSUR["PHOTO_MAX_COUNT"],
    )
    media_url = serializers.URLField(
        label=_("Ссылка на фото или видео"),
        max_length=1000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Ссылка на фото или видео в интернете (не во внутренней сети).",
    )
    personal_data_consent = serializers.BooleanField(
        label=_("Согласие на обработку персональных данных"),
        required=False,
        default=False,
        help_text="Согласие гражданина на обработку персональных данных (152-ФЗ): обязательно на портале "
        "и в приложении; оператор горячей линии отмечает его со слов гражданина, система — если "
        "получила его вместе с обращением.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the browsable API's form offers a resident only the channels a resident files through
        request = self.context.get("request")
        renderer = getattr(request, "accepted_renderer", None)
        if getattr(renderer, "format", "") == "api" and not _may_use_any_channel(request.user):
            self.fields["channel"].choices = [c for c in Channel.choices if c[0] in PUBLIC_CHANNELS]

    def validate_channel(self, value):
        if value in PUBLIC_CHANNELS:
            return value
        if not _may_use_any_channel(self.context["request"].user):
            raise serializers.ValidationError(
                "Этот канал доступен только информационным системам и сотрудникам."
            )
        return value


def _may_use_any_channel(user) -> bool:
    return user.is_authenticated and (user.has_role(Role.SYSTEM) or policies.is_staff(user))


class PublicEventSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = AppealEvent
        fields = ["kind", "kind_display", "at", "status_to"]


class AppealEventSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    actor = serializers.SerializerMethodField()
    organisation = OrganisationBriefSerializer(read_only=True)

    class Meta:
        model = AppealEvent
        fields = [
            "id",
            "kind",
            "kind_display",
            "at",
            "actor",
            "organisation",
            "status_from",
            "status_to",
            "reason",
            "data",
            "public",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, event):
        """Staff and systems by full name or role; the citizen as «Заявитель», to every reader: the
        timeline is read by roles without the right to the citizen's data (152-ФЗ), and a username
        is never shown, since it may be a phone or an e-mail."""
        if event.actor_id is None:
            return None
        return actor_label(event.actor)


CITIZEN_LABEL = "Заявитель"
# The role a staff account is named by when it has no full name, most answerable first.
LABELLED_ROLES = (
    Role.ADMINISTRATOR,
    Role.OPERATOR,
    Role.SUPERVISOR,
    Role.EXECUTOR,
    Role.DISPATCHER,
    Role.ANALYST,
    Role.LEADERSHIP,
    Role.SYSTEM,
)


def actor_label(user) -> str:
    role = next((r for r in LABELLED_ROLES if user.has_role(r)), None)
    if role is None:  # a citizen, acting on their own appeal
        return CITIZEN_LABEL
    return user.get_full_name() or str(Role(role).label)


_DATETIME = serializers.DateTimeField(read_only=True)


def _datetime(value):
    """A moment as DRF's DateTimeField writes it (ISO 8601 in the current time zone)."""
    return None if value is None else _DATETIME.to_representation(value)


def _float(value):
    return None if value is None else float(value)


class AppealSerializer(serializers.Serializer):
    """An appeal as staff and its author see it.

    This is the hottest serializer: every intake answers with it and every list page is made of it.
    The fields below describe the answer (the OpenAPI schema is built from them); `to_representation`
    writes the same answer by hand, because DRF builds a fresh copy of every declared field for every
    serializer it makes, which cost more than the rest of the answer. A test holds the two equal.
    """

    number = serializers.CharField(read_only=True)
    channel = serializers.ChoiceField(choices=Channel.choices, read_only=True)
    external_id = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    text = serializers.CharField(read_only=True)
    address = serializers.SerializerMethodField()
    latitude = serializers.FloatField(read_only=True, allow_null=True)
    longitude = serializers.FloatField(read_only=True, allow_null=True)
    territory = TerritoryBriefSerializer(read_only=True, allow_null=True)
    building = serializers.IntegerField(source="building_id", read_only=True, allow_null=True)
    place_kind = serializers.CharField(read_only=True)
    topic = TopicBriefSerializer(read_only=True, allow_null=True)
    organisation = OrganisationBriefSerializer(read_only=True, allow_null=True)
    routing_reason = serializers.CharField(read_only=True)
    priority = serializers.ChoiceField(choices=Priority.choices, read_only=True)
    registered_at = serializers.DateTimeField(read_only=True)
    first_response_due = serializers.DateTimeField(read_only=True, allow_null=True)
    resolution_due = serializers.DateTimeField(read_only=True, allow_null=True)
    first_responded_at = serializers.DateTimeField(read_only=True, allow_null=True)
    answered_at = serializers.DateTimeField(read_only=True, allow_null=True)
    closed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    close_reason = serializers.CharField(read_only=True)
    planned_at = serializers.DateTimeField(read_only=True, allow_null=True)
    deadline_state = serializers.ChoiceField(choices=DeadlineState.choices, read_only=True)
    paused_since = serializers.DateTimeField(read_only=True, allow_null=True)
    extension_reason = serializers.CharField(read_only=True)
    reopen_count = serializers.IntegerField(read_only=True)
    merged_into = serializers.CharField(
        source="merged_into.number", read_only=True, default=None, allow_null=True
    )
    author = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()
    media_url = serializers.CharField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, appeal):
        territory, topic, organisation = appeal.territory, appeal.topic, appeal.organisation
        block = topic.block if topic is not None else None
        return {
            "number": appeal.number,
            "channel": str(appeal.channel),
            "external_id": appeal.external_id,
            "status": str(appeal.status),
            "status_display": str(appeal.get_status_display()),
            "text": appeal.text,
            "address": self.get_address(appeal),
            "latitude": _float(appeal.latitude),
            "longitude": _float(appeal.longitude),
            "territory": None
            if territory is None
            else {"id": territory.pk, "name": territory.name, "kind": str(territory.kind)},
            "building": appeal.building_id,
            "place_kind": str(appeal.place_kind),
            "topic": None
            if topic is None
            else {
                "id": topic.pk,
                "code": topic.code,
                "name": topic.name,
                "block": None if block is None else {"id": block.pk, "code": block.code, "name": block.name},
            },
            "organisation": None
            if organisation is None
            else {"id": organisation.pk, "name": organisation.name, "kind": str(organisation.kind)},
            "routing_reason": appeal.routing_reason,
            "priority": str(appeal.priority),
            "registered_at": _datetime(appeal.registered_at),
            "first_response_due": _datetime(appeal.first_response_due),
            "resolution_due": _datetime(appeal.resolution_due),
            "first_responded_at": _datetime(appeal.first_responded_at),
            "answered_at": _datetime(appeal.answered_at),
            "closed_at": _datetime(appeal.closed_at),
            "close_reason": str(appeal.close_reason),
            "planned_at": _datetime(appeal.planned_at),
            "deadline_state": str(appeal.deadline_state),
            "paused_since": _datetime(appeal.paused_since),
            "extension_reason": appeal.extension_reason,
            "reopen_count": appeal.reopen_count,
            "merged_into": appeal.merged_into.number if appeal.merged_into_id else None,
            "author": self.get_author(appeal),
            "photos": self.get_photos(appeal),
            "media_url": appeal.media_url,
            "updated_at": _datetime(appeal.updated_at),
        }

    def _personal(self, appeal) -> bool:
        """Whether the reader may see the citizen's personal data in this appeal (asked once)."""
        if getattr(self, "_personal_for", None) is not appeal:
            request = self.context.get("request")
            self._personal_for = appeal
            self._personal_seen = request is not None and policies.can_see_personal_data(request.user, appeal)
        return self._personal_seen

    @extend_schema_field(serializers.CharField())
    def get_address(self, appeal) -> str:
        """Without a flat or room number for those who may not see the citizen's personal data."""
        return appeal.address if self._personal(appeal) else policies.public_address(appeal.address)

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_author(self, appeal):
        if not self._personal(appeal):
            return None
        shown = self.context.get("contacts_shown")  # the view journals them (actions.record_contacts_seen)
        if shown is not None and (appeal.author_name or appeal.author_email or appeal.author_phone):
            if appeal.author_id is None or appeal.author_id != self.context["request"].user.pk:
                shown.add(appeal.pk)
        return {"name": appeal.author_name, "email": appeal.author_email, "phone": appeal.author_phone}

    def _withheld(self, appeal) -> frozenset[int]:
        """The photos of an answer still in review, kept from the citizen (staff see them)."""
        if not hasattr(self, "_reader_is_staff"):
            request = self.context.get("request")
            self._reader_is_staff = request is not None and policies.is_staff(request.user)
        return review.withheld_photos(appeal, self._reader_is_staff)

    @extend_schema_field(serializers.ListField(child=serializers.URLField()))
    def get_photos(self, appeal):
        request = self.context.get("request")
        known = self.context.get("photos")  # given by the caller that has just stored them
        photos = list(appeal.photos.all() if known is None else known)
        withheld = self._withheld(appeal) if photos else frozenset()
        # photos are served through the API, which checks that the reader may see the appeal
        urls = [f"/api/v1/appeals/{appeal.number}/photos/{p.pk}/" for p in photos if p.pk not in withheld]
        return [request.build_absolute_uri(u) for u in urls] if request else urls


class AppealDetailSerializer(AppealSerializer):
    allowed_actions = serializers.SerializerMethodField()

    def to_representation(self, appeal):
        return {**super().to_representation(appeal), "allowed_actions": self.get_allowed_actions(appeal)}

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, appeal):
        return policies.allowed_actions(self.context["request"].user, appeal)


class AppealStatusSerializer(serializers.ModelSerializer):
    """What anybody who knows the number may see: no text, no place, no person."""

    status_display = serializers.CharField(source="get_status_display", read_only=True)
    topic = serializers.CharField(source="topic.name", default=None, read_only=True)
    events = serializers.SerializerMethodField()

    class Meta:
        model = Appeal
        fields = ["number", "status", "status_display", "topic", "registered_at", "resolution_due", "events"]

    @extend_schema_field(PublicEventSerializer(many=True))
    def get_events(self, appeal):
        return PublicEventSerializer([e for e in appeal.events.all() if e.public], many=True).data


class SimilarAppealSerializer(serializers.Serializer):
    """A near-duplicate: its number, topic, status, how far and how alike; never its text or author."""

    number = serializers.CharField(source="similar.number")
    status = serializers.CharField(source="similar.status")
    status_display = serializers.SerializerMethodField()
    topic = serializers.CharField(source="topic.name", default=None)
    registered_at = serializers.DateTimeField(source="similar.registered_at")
    distance_m = serializers.FloatField(source="similar.distance_m", allow_null=True)
    similarity = serializers.FloatField(source="similar.similarity")

    def get_status_display(self, item) -> str:
        return str(Status(item["similar"].status).label)


class NearbyAppealSerializer(serializers.Serializer):
    """What the portal shows of an appeal nearby: no text, no author, no exact place or time."""

    number = serializers.CharField(source="similar.number")
    status = serializers.CharField(source="similar.status")
    status_display = serializers.SerializerMethodField()
    topic = serializers.CharField(source="topic.name", default=None)
    registered_on = serializers.SerializerMethodField()
    distance = serializers.SerializerMethodField()

    def get_status_display(self, item) -> str:
        return str(Status(item["similar"].status).label)

    def get_registered_on(self, item) -> str:
        return timezone.localdate(item["similar"].registered_at).isoformat()

    def get_distance(self, item) -> str:
        return public.rough_distance(item["similar"].distance_m)


class NearbyQuerySerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000)
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lon = serializers.FloatField(min_value=-180, max_value=180)


# ------------------------------------------------------------ lifecycle inputs


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class RequiredReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000)


class TextSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=20000)


class AnswerSerializer(TextSerializer):
    photos = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=list,
        max_length=settings.TSUR["PHOTO_MAX_COUNT"],
        help_text="Номера фото обращения, приложенных к ответу (сначала загрузите их в photos/).",
    )


class ReturnAnswerSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=4000, help_text="Что нужно доработать в ответе.")


class PrioritySerializer(RequiredReasonSerializer):
    priority = serializers.ChoiceField(choices=Priority.choices)


class AnswerTemplateSerializer(serializers.Serializer):
    """A template filled in for the appeal and the reader ({имя} only for those who may see it)."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    text = serializers.CharField(read_only=True)


def optional_organisation():
    return serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(is_active=True), required=False, allow_null=True, default=None
    )


def optional_topic():
    return CodeRelatedField(
        slug_field="code",
        queryset=Topic.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
    )


class AssignSerializer(ReasonSerializer):
    organisation = optional_organisation()
    topic = optional_topic()
    complaint_ticket_number = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default=""
    )


class RedirectSerializer(RequiredReasonSerializer):
    organisation = optional_organisation()
    topic = optional_topic()
    to_operator = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Вернуть оператору на модерацию, а не по правилам маршрутизации.",
    )


class ClarificationSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=4000)


class InterimAnswerSerializer(TextSerializer):
    planned_at = serializers.DateTimeField()


class CloseSerializer(ReasonSerializer):
    how = serializers.ChoiceField(
        choices=[CloseReason.SATISFIED, CloseReason.CONTROLLER], default=CloseReason.SATISFIED
    )


class RateSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5, help_text="Оценка ответа: от 1 до 5.")
    comment = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class MergeSerializer(ReasonSerializer):
    into = CodeRelatedField(
        slug_field="number", queryset=Appeal.objects.none(), pattern=r"^[0-9]{2}-[0-9]{7,12}$"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["into"].queryset = Appeal.objects.restrict(self.context["request"].user)


class ReassignSerializer(ReasonSerializer):
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        help_text="Сотрудник организации (исполнитель или руководитель), которому передаётся обращение.",
    )


class ExtendSerializer(RequiredReasonSerializer):
    until = serializers.DateTimeField()


class PhotoSerializer(serializers.Serializer):
    photo = serializers.FileField()
