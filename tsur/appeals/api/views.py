from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from tsur.core.api.parsers import JSONParser
from tsur.core.api.throttling import PublicIntakeThrottle, PublicLookupThrottle
from tsur.core.choices import OrganisationKind, Role
from tsur.core.errors import DomainError
from tsur.core.models import Organisation
from tsur.nlp import duplicates

from .. import actions, answer_templates, complaint_book, policies, public, review
from ..choices import FINAL_STATUSES, AccessInterface
from ..filtersets import AppealFilterSet, ComplaintTicketFilterSet
from ..models import Appeal, AppealEvent, AppealPhoto, ComplaintTicket, RoutingRule, ThematicBlock, Topic
from . import serializers as s
from . import ticket_serializers as tickets


class ThematicBlockViewSet(viewsets.ReadOnlyModelViewSet):
    """Thematic blocks of the rubricator (public)."""

    queryset = ThematicBlock.objects.filter(is_active=True)
    serializer_class = s.ThematicBlockSerializer
    permission_classes = [permissions.AllowAny]
    lookup_field = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]{1,64}"


class TopicViewSet(viewsets.ReadOnlyModelViewSet):
    """Topics with their deadline regulation (public)."""

    queryset = Topic.objects.filter(is_active=True).select_related("block")
    serializer_class = s.TopicSerializer
    permission_classes = [permissions.AllowAny]
    filterset_fields = ["block__code", "complaint_book", "priority"]
    lookup_field = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]{1,64}"


class StaffOnly(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.user.is_authenticated and policies.is_staff(request.user)


class RoutingRuleViewSet(viewsets.ReadOnlyModelViewSet):
    """Routing rules (staff only; edited in the administration screens)."""

    queryset = RoutingRule.objects.all().order_by("pk")
    serializer_class = s.RoutingRuleSerializer
    permission_classes = [StaffOnly]
    filterset_fields = ["topic", "block", "territory", "organisation", "is_active"]


# Actions that answer a whole list, neither paged nor filtered by the list's parameters: said so to
# the schema too, which otherwise describes a page of results and the list's filters (issue 15's fuzzing).
WHOLE_LIST = {"pagination_class": None, "filter_backends": []}

LIFECYCLE = {
    # url name: (action function, input serializer, how serializer data map to arguments)
    "send-to-moderation": (actions.send_to_moderation, s.ReasonSerializer),
    "assign": (actions.assign, s.AssignSerializer),
    "take": (actions.take, None),
    "request-clarification": (actions.request_clarification, s.ClarificationSerializer),
    "citizen-reply": (actions.citizen_reply, s.TextSerializer),
    "interim-answer": (actions.interim_answer, s.InterimAnswerSerializer),
    "answer": (actions.answer, s.AnswerSerializer),
    "approve-answer": (actions.approve_answer, None),
    "return-answer": (actions.return_answer, s.ReturnAnswerSerializer),
    "set-priority": (actions.set_priority, s.PrioritySerializer),
    "close": (actions.close, s.CloseSerializer),
    "reopen": (actions.reopen, s.RequiredReasonSerializer),
    "rate": (actions.rate, s.RateSerializer),
    "reject": (actions.reject, s.RequiredReasonSerializer),
    "redirect": (actions.redirect, s.RedirectSerializer),
    "merge": (actions.merge, s.MergeSerializer),
    "extend": (actions.extend, s.ExtendSerializer),
    "reassign": (actions.reassign, s.ReassignSerializer),
    "comment": (actions.comment, s.TextSerializer),
    "erase-personal-data": (actions.erase_personal_data, s.RequiredReasonSerializer),
}


class AppealViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The appeal register: file an appeal (anyone), see and work the appeals within one's scope."""

    lookup_field = "number"
    lookup_value_regex = r"[0-9]{2}-[0-9]{7,12}"
    filterset_class = AppealFilterSet
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def initial(self, request, *args, **kwargs):
        self.contacts_shown = set()
        super().initial(request, *args, **kwargs)

    def get_serializer_context(self):
        # every serializer of this response adds the appeals whose citizen's contacts it showed
        return {**super().get_serializer_context(), "contacts_shown": getattr(self, "contacts_shown", None)}

    def finalize_response(self, request, response, *args, **kwargs):
        """One journal row per appeal whose citizen's contacts this response showed to staff, in one
        statement; not for the filer reading back what it has just sent."""
        shown = getattr(self, "contacts_shown", None)
        if shown and response.status_code < 400 and self.action != "create":
            actions.record_contacts_seen(request.user, shown, AccessInterface.API)
        return super().finalize_response(request, response, *args, **kwargs)

    def get_queryset(self):
        queryset = Appeal.objects.restrict(self.request.user).select_related(
            "topic__block", "organisation", "territory", "merged_into"
        )
        return queryset.prefetch_related("photos")

    def get_serializer_class(self):
        if self.action == "create":
            return s.AppealCreateSerializer
        if self.action == "retrieve":
            return s.AppealDetailSerializer
        return s.AppealSerializer

    def get_permissions(self):
        if self.action in ("create", "public_status", "nearby"):
            return [permissions.AllowAny()]
        return super().get_permissions()

    def get_throttles(self):
        if self.action == "create":
            return [PublicIntakeThrottle()]
        if self.action in ("public_status", "nearby"):
            return [PublicLookupThrottle()]
        return super().get_throttles()

    @extend_schema(
        request=s.AppealCreateSerializer, responses={201: s.AppealSerializer, 200: s.AppealSerializer}
    )
    def create(self, request, *args, **kwargs):
        serializer = s.AppealCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        user = request.user if request.user.is_authenticated else None
        is_citizen = user is not None and user.has_role(Role.CITIZEN) and not policies.is_staff(user)
        appeal, created = actions.register(
            **{k: v for k, v in data.items() if k != "photos"},
            photo_files=data.get("photos", []),
            submitted_by=user,
            author=user if is_citizen else None,
        )
        if not created and user is None:
            # An anonymous retry learns only what anybody knowing the number may learn.
            body = {
                "number": appeal.number,
                "status": appeal.status,
                "status_display": appeal.get_status_display(),
            }
            return Response(body, status=status.HTTP_200_OK)
        context = self.get_serializer_context()
        if created and not data.get("photos"):
            context["photos"] = []  # nothing to read back: the appeal in hand is complete
        else:
            appeal = Appeal.objects.select_related(
                "topic__block", "organisation", "territory", "merged_into"
            ).get(pk=appeal.pk)
        body = s.AppealSerializer(appeal, context=context).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(responses=s.AppealEventSerializer(many=True))
    @action(detail=True, methods=["get"], **WHOLE_LIST)
    def timeline(self, request, number=None):
        appeal = self.get_object()
        events = AppealEvent.objects.filter(appeal=appeal).select_related("actor", "organisation")
        if not policies.is_staff(request.user):
            events = events.filter(public=True)
        events = list(events)
        if not policies.can_see_personal_data(request.user, appeal):  # analysts, leadership, dispatchers
            for event in events:  # read, never saved
                event.reason = policies.without_author_name(appeal, event.reason)
        return Response(s.AppealEventSerializer(events, many=True).data)

    @extend_schema(responses=s.AppealStatusSerializer)
    @action(detail=True, methods=["get"], url_path="status")
    def public_status(self, request, number=None):
        appeal = (
            Appeal.objects.published(request.user)
            .filter(number=number)
            .select_related("topic")
            .prefetch_related(Prefetch("events", queryset=AppealEvent.objects.filter(public=True)))
            .first()
        )
        if appeal is None:
            return Response({"detail": "Обращение не найдено."}, status=status.HTTP_404_NOT_FOUND)
        return Response(s.AppealStatusSerializer(appeal).data)

    @extend_schema(responses=s.SimilarAppealSerializer(many=True))
    @action(detail=True, methods=["get"], **WHOLE_LIST)
    def similar(self, request, number=None):
        """Open appeals about the same problem at the same place: candidates for merging."""
        appeal = self.get_object()
        if not policies.is_staff(request.user):
            raise Http404
        found = duplicates.find(
            appeal.text,
            latitude=appeal.latitude,
            longitude=appeal.longitude,
            building_id=appeal.building_id,
            topic_id=appeal.topic_id,
            at=max(timezone.now(), appeal.registered_at),
            exclude_pk=appeal.pk,
            queryset=Appeal.objects.restrict(request.user).exclude(status__in=FINAL_STATUSES),
        )
        return Response(s.SimilarAppealSerializer(public.with_topics(found), many=True).data)

    @extend_schema(responses=s.AnswerTemplateSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="answer-templates", **WHOLE_LIST)
    def answer_templates(self, request, number=None):
        """The answer templates for the appeal's topic (and for any topic), filled in for it."""
        appeal = self.get_object()
        if not policies.is_staff(request.user):
            raise Http404
        rendered = answer_templates.for_appeal(appeal, request.user)
        if appeal.author_name and any(appeal.author_name in r.text for r in rendered):
            self.contacts_shown.add(appeal.pk)  # {имя}: journalled as the appeal's own page is
        return Response(s.AnswerTemplateSerializer(rendered, many=True).data)

    @extend_schema(request=s.NearbyQuerySerializer, responses=s.NearbyAppealSerializer(many=True))
    @action(detail=False, methods=["post"], **WHOLE_LIST)
    def nearby(self, request):
        """«Похожие обращения рядом» for the portal before filing: number, topic, status, a rough
        distance and the day; nothing that would let one locate a person or read a text. The text
        comes in the body, not the URL, so it never reaches access logs."""
        query = s.NearbyQuerySerializer(data=request.data)
        query.is_valid(raise_exception=True)
        found = public.nearby(
            query.validated_data["text"], query.validated_data["lat"], query.validated_data["lon"]
        )
        return Response(s.NearbyAppealSerializer(found, many=True).data)

    @extend_schema(request={"multipart/form-data": s.PhotoSerializer}, responses=s.AppealDetailSerializer)
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def photos(self, request, number=None):
        appeal = self.get_object()
        if not policies.can(request.user, "add_photo", appeal):
            raise PermissionDenied("Добавлять фото к этому обращению нельзя.")
        serializer = s.PhotoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        actions.add_photo(appeal, request.user, serializer.validated_data["photo"])
        return self._detail(appeal)

    @extend_schema(responses={(200, "image/*"): bytes})
    @action(detail=True, methods=["get"], url_path=r"photos/(?P<photo_id>[0-9]{1,12})")
    def photo(self, request, number=None, photo_id=None):
        appeal = self.get_object()
        photo = AppealPhoto.objects.filter(appeal=appeal, pk=photo_id).first()
        if photo is None or photo.pk in review.withheld_photos(appeal, policies.is_staff(request.user)):
            raise Http404
        try:
            file = photo.image.open("rb")
        except (FileNotFoundError, ValueError) as error:  # its file lost from storage, or never named
            raise Http404 from error
        response = FileResponse(file, content_type=photo.content_type)
        response["Cache-Control"] = "private, max-age=3600"
        return response

    def _detail(self, appeal):
        """The appeal after a step; a step may have moved it out of the actor's scope (a redirect to
        another organisation), and then only its number and status are shown."""
        visible = self.get_queryset().filter(pk=appeal.pk).first()
        if visible is None:
            appeal.refresh_from_db(fields=["status"])
            return Response(
                {
                    "number": appeal.number,
                    "status": appeal.status,
                    "status_display": appeal.get_status_display(),
                }
            )
        return Response(s.AppealDetailSerializer(visible, context=self.get_serializer_context()).data)

    def _lifecycle(self, request, name):
        function, input_serializer = LIFECYCLE[name]
        appeal = self.get_object()
        policy_name = name.replace("-", "_")
        if not policies.can(request.user, policy_name, appeal):
            raise PermissionDenied("У вас нет права на этот шаг для этого обращения.")
        arguments = {}
        if input_serializer is not None:
            serializer = input_serializer(data=request.data, context=self.get_serializer_context())
            serializer.is_valid(raise_exception=True)
            arguments = dict(serializer.validated_data)
        if name == "close" and arguments.get("how") == "controller" and not policies.is_staff(request.user):
            raise DomainError("Подтвердить решение как контролёр может только сотрудник.", field="how")
        function(appeal, request.user, **arguments)
        return self._detail(appeal)


def _lifecycle_view(name, serializer_class):
    def view(self, request, number=None):
        return self._lifecycle(request, name)

    view.__name__ = name.replace("-", "_")
    view.__doc__ = f"Шаг жизненного цикла: {actions.ACTION_NAMES[name.replace('-', '_')]}."
    view = extend_schema(request=serializer_class, responses=s.AppealDetailSerializer)(view)
    return action(detail=True, methods=["post"], url_path=name)(view)


for _name, (_function, _serializer) in LIFECYCLE.items():
    setattr(AppealViewSet, _name.replace("-", "_"), _lifecycle_view(_name, _serializer))


class ComplaintTicketViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The unified complaint book: tickets residents filed with management companies."""

    serializer_class = tickets.ComplaintTicketSerializer
    permission_classes = [StaffOnly]  # which company a ticket may be filed for: _check_company
    filterset_class = ComplaintTicketFilterSet

    def get_queryset(self):
        return ComplaintTicket.objects.restrict(self.request.user).select_related("organisation")

    def _check_company(self, action, organisation):
        if not policies.can_keep_book(self.request.user, action, organisation):
            raise PermissionDenied("Заявки в книгу жалоб вносит сама управляющая организация.")

    def perform_create(self, serializer):
        data = serializer.validated_data
        self._check_company("file_ticket", data["organisation"])
        serializer.instance = actions.file_ticket(self.request.user, **data)

    @extend_schema(responses=tickets.EffectivenessSerializer(many=True))
    @action(detail=False, methods=["get"], **WHOLE_LIST)
    def effectiveness(self, request):
        """Management companies in scope: tickets, tickets not fulfilled in time, complaints escalated."""
        companies = Organisation.objects.restrict(request.user).filter(
            kind=OrganisationKind.MANAGEMENT_COMPANY
        )
        return Response(
            tickets.EffectivenessSerializer(complaint_book.effectiveness(companies), many=True).data
        )

    @extend_schema(request=tickets.FulfilSerializer, responses=tickets.ComplaintTicketSerializer)
    @action(detail=True, methods=["post"])
    def fulfil(self, request, pk=None):
        ticket = self.get_object()
        self._check_company("fulfil", ticket.organisation)
        serializer = tickets.FulfilSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket = actions.fulfil(ticket, request.user)
        return Response(tickets.ComplaintTicketSerializer(ticket, context=self.get_serializer_context()).data)
