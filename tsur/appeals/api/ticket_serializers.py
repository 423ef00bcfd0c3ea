"""The unified complaint book over the API: tickets, their fulfilment, the companies' effectiveness."""

from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tsur.core.choices import OrganisationKind
from tsur.core.errors import DomainError
from tsur.core.models import Organisation

from .. import policies
from ..actions import tickets
from ..models import ComplaintTicket


class ResidentContact(serializers.CharField):
    """A resident's name or phone in the complaint book: given as text, and shown as text only to
    those with the right to it; others get null (`ComplaintTicketSerializer.to_representation`)."""


class ResidentContactSchema(OpenApiSerializerFieldExtension):
    """Null in answers, never in requests: the schema said «string» and answers to analysts carried
    null (found by fuzzing, issue 15)."""

    target_class = ResidentContact

    def map_serializer_field(self, auto_schema, direction):
        schema = {**build_basic_type(OpenApiTypes.STR), "maxLength": self.target.max_length}
        return {**schema, "nullable": True} if direction == "response" else schema


class ComplaintTicketSerializer(serializers.ModelSerializer):
    organisation = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(kind=OrganisationKind.MANAGEMENT_COMPANY, is_active=True)
    )
    citizen_name = ResidentContact(max_length=200, required=False, allow_blank=True, default="")
    citizen_phone = ResidentContact(max_length=32, required=False, allow_blank=True, default="")
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = ComplaintTicket
        fields = [
            "id",
            "organisation",
            "number",
            "building",
            "address",
            "text",
            "citizen_name",
            "citizen_phone",
            "filed_at",
            "due_at",
            "fulfilled_at",
            "overdue",
            "created_at",
        ]
        read_only_fields = ["fulfilled_at", "created_at"]

    @extend_schema_field(serializers.BooleanField())
    def get_overdue(self, ticket):
        return ticket.fulfilled_at is None and ticket.due_at < timezone.now()

    def to_representation(self, ticket):
        data = super().to_representation(ticket)
        request = self.context.get("request")
        if request is None or not policies.can_see_ticket_personal_data(request.user, ticket):
            data["citizen_name"] = data["citizen_phone"] = None
            data["address"] = policies.public_address(ticket.address)  # the house, not the flat
        return data

    def validate(self, attrs):
        try:
            tickets.check_terms(attrs["filed_at"], attrs["due_at"], timezone.now())
        except DomainError as refusal:
            raise serializers.ValidationError({refusal.field: refusal.message}) from refusal
        organisation = attrs["organisation"]
        if ComplaintTicket.objects.filter(organisation=organisation, number=attrs["number"]).exists():
            raise serializers.ValidationError({"number": "Заявка с таким номером уже есть в книге жалоб."})
        return attrs


class FulfilSerializer(serializers.Serializer):
    """Fulfilment is recorded at the server's time: a company cannot date it back before its deadline."""


class EffectivenessSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    tickets = serializers.IntegerField()
    late_tickets = serializers.IntegerField(help_text="не выполнены в срок")
    escalations = serializers.IntegerField(help_text="жалоб дошло до региона")
    on_time_share = serializers.FloatField(allow_null=True)
