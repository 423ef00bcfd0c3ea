"""The authorization matrix (issue 15): every role × every route of the platform × an object inside
and outside the role's scope → the status written in MATRIX below, nothing changed after a refusal,
and no citizen's name, contacts or flat in an answer to a role without the right to them.

The expectations are this file's table, not the policies under test. A route the URL resolver knows
and the table does not fails `test_the_matrix_names_every_route`: a new endpoint is added here.

A cell is the status for the object inside the scope, `inside/outside`, or `status=` for the same
status inside and outside. One status alone means
the same outside for a route without an object, and for a route with one: 404 outside where the
role reaches something (2xx or 3xx, or 403 for a visible object with a missing right). `→` is a redirect
to a sign-in page. The administrator covers the whole region, so both objects are inside for them.
"""

import json

import pytest
from django.contrib.admin import site
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from tsur.analytics import report
from tsur.analytics.models import ReportState, WeeklyReport
from tsur.appeals import access
from tsur.appeals.choices import EventKind, Status
from tsur.appeals.models import (
    AnswerTemplate,
    Appeal,
    AppealEvent,
    AppealPhoto,
    ComplaintTicket,
    Follower,
    RoutingRule,
)
from tsur.core.choices import Role
from tsur.core.tests.factories import user_with_role
from tsur.dispatch.choices import AlarmState
from tsur.dispatch.models import Alarm, AlarmEvent, Outage, OutageAppeal, OutageEvent
from tsur.notify.models import Delivery
from tsur.open311.models import IssuedToken, ReceivedUpdate
from tsur.social.models import Post, Reply, Source, WatchList

from . import region as fixture_region
from .region import PERSONAL, PNG

pytestmark = pytest.mark.django_db

MATRIX = """
route                               method object  opr  exe  sup  ana  lea  dis  adm      cit      sys      anon
home                                GET    -       302  302  302  302  302  302  302      302      200      200
api:api-root                        GET    -       200  200  200  200  200  200  200      200      200      401
api:appeal-list                     GET    -       200  200  200  200  200  200  200      200      200      401
api:appeal-list                     POST   -       201  201  201  201  201  201  201      201      201      201
api:appeal-nearby                   POST   -       200  200  200  200  200  200  200      200      200      200
api:appeal-detail                   GET    appeal  200  200  200  200  200  200  200=  200      200      401
api:appeal-timeline                 GET    appeal  200  200  200  200  200  200  200=  200      200      401
api:appeal-public-status            GET    appeal  200= 200= 200= 200= 200= 200= 200= 200= 200= 200=
api:appeal-similar                  GET    appeal  200  200  200  200  200  200  200=  404=  404=  401
api:appeal-photo                    GET    photo   200  200  200  200  200  200  200=  200      200      401
api:appeal-photos                   POST   appeal  200  200  200  403  403  403  200=  200      403      401
api:appeal-send-to-moderation       POST   appeal  200  403  403  403  403  403  200=  403      403      401
api:appeal-assign                   POST   appeal  200  403  403  403  403  403  200=  403      403      401
api:appeal-reject                   POST   appeal  200  403  403  403  403  403  200=  403      403      401
api:appeal-merge                    POST   appeal  200  403  403  403  403  403  200=  403      403      401
api:appeal-take                     POST   appeal  403  200  200  403  403  403  200=  403      403      401
api:appeal-request-clarification    POST   appeal  200  200  200  403  403  403  200=  403      403      401
api:appeal-interim-answer           POST   appeal  403  200  200  403  403  403  200=  403      403      401
api:appeal-answer                   POST   appeal  403  200  200  403  403  403  200=  403      403      401
api:appeal-approve-answer           POST   appeal  200  403  200  403  403  403  200=  403      403      401
api:appeal-return-answer            POST   appeal  200  403  200  403  403  403  200=  403      403      401
api:appeal-set-priority             POST   appeal  200  403  403  403  403  403  200=  403      403      401
api:appeal-answer-templates         GET    appeal  200  200  200  200  200  200  200=  404=  404=  401
api:appeal-redirect                 POST   appeal  200  200  200  403  403  403  200=  403      403      401
api:appeal-extend                   POST   appeal  200  403  200  403  403  403  200=  403      403      401
api:appeal-citizen-reply            POST   appeal  200  403  403  403  403  403  403=  200      403      401
api:appeal-close                    POST   appeal  200  403  403  403  403  403  200=  200      403      401
api:appeal-reopen                   POST   appeal  200  403  403  403  403  403  200=  200      403      401
api:appeal-comment                  POST   appeal  200  403  403  403  403  403  200=  200      403      401
api:appeal-rate                     POST   appeal  200  403  403  403  403  403  403=  200      403      401
api:appeal-erase-personal-data      POST   appeal  403  403  403  403  403  403  200=  403      403      401
api:appeal-reassign                 POST   appeal  403  403  200  403  403  403  200=  403      403      401
api:complaintticket-list            GET    -       200  200  200  200  200  200  200      403      403      401
api:complaintticket-list            POST   -       403  201  201  403  403  403  201      403      403      401
api:complaintticket-effectiveness   GET    -       200  200  200  200  200  200  200      403      403      401
api:complaintticket-detail          GET    ticket  200  200  200  200  200  200  200=  403=  403=  401
api:complaintticket-fulfil          POST   ticket  403  200  200  403  403  403  200=  403=  403=  401
api:routingrule-list                GET    -       200  200  200  200  200  200  200      403      403      401
api:routingrule-detail              GET    -       200  200  200  200  200  200  200      403      403      401
api:thematicblock-list              GET    -       200  200  200  200  200  200  200      200      200      200
api:thematicblock-detail            GET    -       200  200  200  200  200  200  200      200      200      200
api:topic-list                      GET    -       200  200  200  200  200  200  200      200      200      200
api:topic-detail                    GET    -       200  200  200  200  200  200  200      200      200      200
api:territory-list                  GET    -       200  200  200  200  200  200  200      200      200      200
api:territory-detail                GET    -       200  200  200  200  200  200  200      200      200      200
api:organisation-list               GET    -       200  200  200  200  200  200  200      200      200      200
api:organisation-detail             GET    -       200  200  200  200  200  200  200      200      200      200
api:building-list                   GET    -       200  200  200  200  200  200  200      200      200      200
api:building-detail                 GET    -       200  200  200  200  200  200  200      200      200      200
api-token                           POST   -       400  400  400  400  400  400  400      400      400      400
telemetry                           POST   -       401  401  401  401  401  401  401      401      401      401
schema                              GET    -       200  200  200  200  200  200  200      200      200      200
api-docs                            GET    -       200  200  200  200  200  200  200      200      200      200
api-redoc                           GET    -       200  200  200  200  200  200  200      200      200      200
open311:discovery                   GET    -       200  200  200  200  200  200  200      200      200      200
open311:services                    GET    -       200  200  200  200  200  200  200      200      200      200
open311:service                     GET    -       200  200  200  200  200  200  200      200      200      200
open311:requests                    GET    -       200  200  200  200  200  200  200      200      200      200
open311:requests                    POST   -       403  403  403  403  403  403  403      403      200      403
open311:request                     GET    appeal  404= 404= 404= 404= 404= 404= 404= 404= 200 404=
open311:updates                     GET    -       200  200  200  200  200  200  200      200      200      200
open311:updates                     POST   appeal  403= 403= 403= 403= 403= 403= 403= 403= 200 403=
open311:token                       GET    -       200  200  200  200  200  200  200      200      200      200
web:suggest-addresses               GET    -       200  200  200  200  200  200  200      200      200      200
web:suggest-topics                  POST   -       200  200  200  200  200  200  200      200      200      200
web:portal-new                      GET    -       200  200  200  200  200  200  200      200      200      200
web:portal-new                      POST   -       201  201  201  201  201  201  201      201      201      201
web:portal-nearby                   POST   -       200  200  200  200  200  200  200      200      200      200
web:portal-join                     POST   appeal  200= 200= 200= 200= 200= 200= 200= 400/200  200= 200=
web:portal-status-lookup            GET    -       200  200  200  200  200  200  200      200      200      200
web:portal-status                   GET    appeal  200= 200= 200= 200= 200= 200= 200= 200= 200= 200=
web:portal-map                      GET    -       200  200  200  200  200  200  200      200      200      200
web:portal-map-data                 GET    -       200  200  200  200  200  200  200      200      200      200
web:portal-map-backdrop             GET    -       200  200  200  200  200  200  200      200      200      200
web:overview                        GET    -       403  403  403  200  200  403  200      403      403      →
web:analytics                       GET    -       403  403  200  200  200  403  200      403      403      →
web:analytics-ratings               GET    -       403  403  200  200  200  403  200      403      403      →
web:analytics-complaint-book        GET    -       403  403  200  200  200  403  200      403      403      →
web:analytics-appeals               GET    -       403  403  200  200  200  403  302      403      403      →
web:situation                       GET    -       200  403  403  200  200  403  200      403      403      →
web:situation-data                  GET    -       200  403  403  200  200  403  200      403      403      →
web:situation-appeals               GET    -       302  403  403  200  200  403  302      403      403      →
web:analytics-reports               GET    -       403  403  403  200  200  403  200      403      403      →
web:analytics-report                GET    -       403  403  403  200  200  403  200      403      403      →
web:analytics-report-pdf            GET    -       403  403  403  200  200  403  200      403      403      →
web:analytics-report-make           POST   -       403  403  403  302  302  403  302      403      403      →
web:analytics-report-subscribe      POST   -       403  403  403  302  302  403  302      403      403      →
web:console                         GET    -       200  403  403  403  403  403  200      403      403      →
web:console-counts                  GET    -       200  403  403  403  403  403  200      403      403      →
web:export-appeals                  GET    -       200  200  200  200  200  403  200      403      403      →
web:console-bulk-assign             POST   -       302  403  403  403  403  403  302      403      403      →
web:console-bulk-redirect           POST   -       302  403  403  403  403  403  302      403      403      →
web:console-bulk-merge              POST   -       302  403  403  403  403  403  302      403      403      →
web:console-new                     GET    -       200  403  403  403  403  403  200      403      403      →
web:console-new                     POST   appeal  302  403= 403= 403= 403= 403= 302= 403= 403= →
web:console-new-similar             POST   -       200  403  403  403  403  403  200      403      403      →
web:console-card                    GET    appeal  200  403= 403= 403= 403= 403= 200= 403= 403= →
web:console-step                    POST   appeal  302  403= 403= 403= 403= 403= 302= 403= 403= →
web:work                            GET    -       403  200  200  403  403  403  200      403      403      →
web:work-bulk-reassign              POST   -       403  403  302  403  403  403  302      403      403      →
web:work-card                       GET    appeal  403= 200  200  403= 403= 403= 200= 403= 403= →
web:work-step                       POST   appeal  403= 302  302  403= 403= 403= 302= 403= 403= →
web:work-answer-template            GET    appeal  403= 200  200  403= 403= 403= 200= 403= 403= →
web:dispatch-board                  GET    -       403  403  403  403  200  200  200      403      403      →
web:dispatch-state                  GET    -       403  403  403  403  200  200  200      403      403      →
web:dispatch-backdrop               GET    -       403  403  403  403  200  200  200      403      403      →
web:dispatch-acknowledge            POST   alarm   403= 403= 403= 403= 403= 200 200= 403= 403= →
web:dispatch-clear                  POST   alarm   403= 403= 403= 403= 403= 200 200= 403= 403= →
web:dispatch-outage                 GET    outage  403= 403= 403= 403= 200 200 200= 403= 403= →
web:dispatch-outage-answer          POST   outage  403= 403= 403= 403= 403= 302 302= 403= 403= →
web:dispatch-outage-end             POST   outage  403= 403= 403= 403= 403= 302 302= 403= 403= →
web:dispatch-outage-relink          POST   outage  403= 403= 403= 403= 403= 302 302= 403= 403= →
web:social                          GET    -       200  403  403  403  403  403  200      403      403      →
web:social-decide                   POST   -       302  403  403  403  403  403  302      403      403      →
web:social-incident                 GET    appeal  200  200  200  200  200  200  200=     403=     403=     →
web:my                              GET    -       403  403  403  403  403  403  403      200      403      →
web:resident-login                  GET    -       302  302  302  302  302  302  302      302      302      200
web:resident-login                  POST   -       302  302  302  302  302  302  302      302      302      302
web:resident-code                   GET    -       302  302  302  302  302  302  302      302      302      302
web:resident-code                   POST   -       302  302  302  302  302  302  302      302      302      302
web:resident-password               GET    -       302  302  302  302  302  302  302      302      302      200
web:resident-password               POST   -       302  302  302  302  302  302  302      302      302      200
web:resident-set-password           GET    -       403  403  403  403  403  403  403      200      403      →
web:resident-set-password           POST   -       403  403  403  403  403  403  403      200      403      →
web:author-page                     GET    appeal  404= 404= 404= 404= 404= 404= 404= 200      404= →
web:author-step                     POST   appeal  404= 404= 404= 404= 404= 404= 404= 302      404= →
web:author-photo                    GET    photo   404= 404= 404= 404= 404= 404= 404= 200      404= →
web:author-link                     GET    appeal  200  200  200  200  200  200  200      200      200      200
web:author-link-step                POST   appeal  302  302  302  302  302  302  302      302      302      302
web:author-link-photo               GET    photo   200  200  200  200  200  200  200      200      200      200
admin:index                         GET    -       →    →    →    →    →    →    200      →        →        →
admin-import                        GET    -       →    →    →    →    →    →    403      →        →        →
login                               GET    -       200  200  200  200  200  200  200      200      200      200
logout                              POST   -       302  302  302  302  302  302  302      302      302      302
password_change                     GET    -       200  200  200  200  200  200  200      200      200      →
password_change_done                GET    -       200  200  200  200  200  200  200      200      200      →
password_reset                      GET    -       200  200  200  200  200  200  200      200      200      200
password_reset_done                 GET    -       200  200  200  200  200  200  200      200      200      200
password_reset_confirm              GET    -       200  200  200  200  200  200  200      200      200      200
password_reset_complete             GET    -       200  200  200  200  200  200  200      200      200      200
"""
COLUMNS = {
    "opr": Role.OPERATOR,
    "exe": Role.EXECUTOR,
    "sup": Role.SUPERVISOR,
    "ana": Role.ANALYST,
    "lea": Role.LEADERSHIP,
    "dis": Role.DISPATCHER,
    "adm": Role.ADMINISTRATOR,
    "cit": Role.CITIZEN,
    "sys": Role.SYSTEM,
    "anon": "anonymous",
}
# Roles that may see the personal data of the citizen inside their scope (152-ФЗ: need to know); the
# system filed that appeal itself. Nobody but the administrator may see the other district's citizen.
ENTITLED = {Role.OPERATOR, Role.EXECUTOR, Role.SUPERVISOR, Role.ADMINISTRATOR, Role.CITIZEN, Role.SYSTEM}
# The state a lifecycle step starts from; every other step finds the appeal at work.
GIVEN_STATUS = {
    "api:appeal-send-to-moderation": Status.REGISTERED,
    "api:appeal-assign": Status.MODERATION,
    "api:appeal-reject": Status.MODERATION,
    "api:appeal-take": Status.ASSIGNED,
    "api:appeal-citizen-reply": Status.CLARIFICATION,
    "api:appeal-close": Status.ANSWERED,
    "api:appeal-reopen": Status.CLOSED,
    "api:appeal-approve-answer": Status.REVIEW,
    "api:appeal-return-answer": Status.REVIEW,
    "api:appeal-rate": Status.ANSWERED,
    "web:console-step": Status.MODERATION,
    "web:work-step": Status.ASSIGNED,
    "open311:request": Status.MODERATION,  # unpublished: only the client that filed it sees it
}
# What is compared before and after a refused request.
WATCHED = (
    Appeal,
    AppealEvent,
    AppealPhoto,
    ComplaintTicket,
    Follower,
    Alarm,
    AlarmEvent,
    Outage,
    OutageAppeal,
    OutageEvent,
    Delivery,
    IssuedToken,
    ReceivedUpdate,
    Post,
    Reply,
)


def rows():
    lines = [line.split() for line in MATRIX.strip().splitlines()]
    header, body = lines[0], lines[1:]
    roles = [COLUMNS[name] for name in header[3:]]
    for route, method, obj, *cells in body:
        assert len(cells) == len(roles), route
        yield route, method, obj, dict(zip(roles, cells, strict=True))


def expected(cell: str, has_object: bool) -> tuple[str, str]:
    if cell.endswith("="):
        return cell[:-1], cell[:-1]
    inside, _, outside = cell.partition("/")
    if not outside:
        reaches = inside[0] in "23" or inside == "403"
        outside = "404" if has_object and reaches else inside
    return inside, outside


def snapshot():
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in WATCHED}


def the_request(region, route, method, obj, side_name, role):
    """(path, data, extra) for one cell."""
    side = getattr(region, side_name)
    now = timezone.now()
    key = {"api_key": region.open311_key} if role == Role.SYSTEM else {}
    kwargs = {}
    if route.startswith("open311:"):
        kwargs["fmt"] = "json"
    # the hotline's row is about an appeal (the one a caller joins), but its path names none
    if obj == "appeal" and route.startswith(("api:", "web:")) and route != "web:console-new":
        kwargs["number"] = side.appeal.number
    if obj == "appeal" and route == "open311:request":
        kwargs["number"] = side.appeal.number
    if obj == "photo":
        kwargs.update(number=side.appeal.number, photo_id=side.photo.pk)
    if route.startswith("web:author-link"):
        # the author's private link: the first district's key, which opens no other appeal
        kwargs["key"] = region.key
    if obj in ("ticket", "alarm", "outage"):
        kwargs["pk"] = getattr(side, obj).pk
    fixed = {
        "web:console-step": {"name": "reject"},
        "web:export-appeals": {"fmt": "csv"},
        "web:work-step": {"name": "take"},
        "web:author-step": {"name": "comment"},
        "web:author-link-step": {"name": "comment"},
        "api:routingrule-detail": {"pk": region.rule.pk},
        "api:thematicblock-detail": {"code": region.topic.block.code},
        "api:topic-detail": {"code": region.topic.code},
        "api:territory-detail": {"pk": side.territory.pk},
        "api:organisation-detail": {"pk": side.company.pk},
        "api:building-detail": {"pk": side.building.pk},
        "open311:service": {"code": region.topic.code},
        "open311:token": {"value": str(region.token.token)},
        "password_reset_confirm": {"uidb64": "MQ", "token": "set-password"},
        "web:analytics-report": {"pk": region.report.pk},
        "web:analytics-report-pdf": {"pk": region.report.pk},
    }
    kwargs.update(fixed.get(route, {}))
    path = reverse(route, kwargs=kwargs)
    data = {
        "api:appeal-list": {
            "text": "Не горит свет в подъезде",
            "topic": region.topic.code,
            "address": "ул. Садовая, д. 12",
            "personal_data_consent": True,
        },
        "api:appeal-nearby": {"text": "Протекает потолок", "lat": 59.93, "lon": 30.31},
        "api:appeal-send-to-moderation": {},
        "api:appeal-assign": {"organisation": side.company.pk},
        "api:appeal-reject": {"reason": "Обращение не по существу"},
        "api:appeal-merge": {"into": side.second_appeal.number},
        "api:appeal-request-clarification": {"question": "Уточните подъезд"},
        "api:appeal-interim-answer": {
            "text": "Работы запланированы",
            "planned_at": (now + timezone.timedelta(days=3)).isoformat(),
        },
        "api:appeal-answer": {"text": "Кровля отремонтирована"},
        "api:appeal-redirect": {"reason": "Не наша зона", "organisation": region.other_company.pk},
        "api:appeal-extend": {
            "reason": "Нужна экспертиза",
            "until": (now + timezone.timedelta(days=60)).isoformat(),
        },
        "api:appeal-citizen-reply": {"text": "Второй подъезд"},
        "api:appeal-close": {},
        "api:appeal-reopen": {"reason": "Снова течёт"},
        "api:appeal-comment": {"text": "Заявка принята"},
        "api:appeal-return-answer": {"comment": "Не сказано, когда починят кровлю"},
        "api:appeal-set-priority": {"priority": "high", "reason": "Течёт на электропроводку"},
        "web:work-answer-template": {"answer-template": region.template.pk},
        "web:console-step": {"reject-reason": "Обращение не по существу"},
        # the hotline adds a caller to the side's appeal (the one to join is the object in scope or not)
        "web:console-new": {"join": side.appeal.number, "phone": "+7 900 000-00-01", "consent": "on"},
        "web:console-new-similar": {"text": "Протекает потолок в ванной", "building": side.building.pk},
        "web:console-bulk-redirect": {
            "numbers": [side.appeal.number],
            "redirect-organisation": region.other_company.pk,
            "redirect-reason": "Не наша зона",
        },
        "web:console-bulk-merge": {"numbers": [side.appeal.number], "merge-into": side.second_appeal.number},
        "web:work-bulk-reassign": {"numbers": [side.appeal.number], "assignee": region.workers["inside"].pk},
        "api:appeal-reassign": {"assignee": region.workers[side_name].pk},
        "web:author-step": {"comment-text": "Дополнение к обращению"},
        "web:author-link-step": {"comment-text": "Дополнение к обращению"},
        "web:resident-login": {"email": "matrix@example.org"},
        "web:resident-code": {"code": "123456"},
        "web:resident-password": {"username": "никто@example.org", "password": "не-тот-пароль"},
        "api:appeal-rate": {"rating": 4, "comment": "Сделали"},
        "api:appeal-erase-personal-data": {"reason": "Заявление гражданина об отзыве согласия"},
        "api:complaintticket-list": {
            "organisation": region.inside.company.pk,
            "number": "УК-новая-1",
            "text": "Течёт кровля",
            "filed_at": (now - timezone.timedelta(days=1)).isoformat(),
            "due_at": (now + timezone.timedelta(days=5)).isoformat(),
        },
        "api:complaintticket-fulfil": {},
        "api-token": {"username": "никто", "password": "не-тот-пароль"},
        "telemetry": {},
        "open311:requests": {
            **key,
            "service_code": region.topic.code,
            "lat": "59.93",
            "long": "30.31",
            "description": "Яма",
            "personal_data_consent": "true",
        },
        "open311:updates": {
            **key,
            "service_request_id": side.appeal.number,
            "status": "open",
            "updated_datetime": now.isoformat(),
            "description": "Спасибо",
        },
        "web:dispatch-outage-answer": {
            "text": "Подача тепла к вечеру",
            "planned_at": (now + timezone.timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M"),
        },
        "web:dispatch-outage-end": {"text": "Тепло подано"},
        "web:portal-new": {
            "text": "Не горит свет в подъезде",
            "email": "sosed@example.org",
            "personal_data_consent": "on",
            "nearby_seen": "1",
        },
        "web:portal-nearby": {
            "text": "Протекает потолок в ванной",
            "latitude": "59.93",
            "longitude": "30.31",
        },
        # the citizen of the first district filed that appeal: joining one's own is refused
        "web:portal-join": {"email": "sosed@example.org", "personal_data_consent": "on"},
        "web:analytics-report-make": {"week": report.last_full_week().isoformat()},
        "web:analytics-report-subscribe": {"subscribe": "1"},
        "web:portal-map-data": {"bbox": "30.2,59.9,30.4,60.0", "zoom": "13"},
        "web:social-decide": {"post": region.post.pk, "label": "other"},
    }.get(route, {})
    if method == "GET" and route.startswith("open311:"):
        data = key
    return path, data


def send(client, method, path, data, route):
    if route == "api:appeal-photos":
        return client.post(path, {"photo": _png()}, HTTP_ACCEPT="application/json")
    if method == "GET":
        return client.get(path, data)
    if route.startswith("api:"):
        return client.post(path, data, content_type="application/json")
    return client.post(path, data, HTTP_ACCEPT="application/json")


def _png():
    return SimpleUploadedFile("leak.png", PNG, content_type="image/png")


def text_of(response) -> str:
    if getattr(response, "streaming", False):  # an export: read as it would be downloaded
        content = b"".join(response.streaming_content)
        return "" if content.startswith(b"\x89PNG") else content.decode("utf-8", "replace")
    body = response.content.decode("utf-8", "replace")
    if response.get("Content-Type", "").startswith("application/json"):
        try:
            return json.dumps(json.loads(body), ensure_ascii=False)  # \\u escapes would hide the values
        except ValueError:
            return body
    return body


@pytest.fixture
def region():
    region = fixture_region.build()
    region.rule = RoutingRule.objects.filter(topic=region.topic).first()
    region.token = IssuedToken.issue(region.inside.appeal, region.users[Role.SYSTEM].open311_client)
    # a template naming the citizen: filled in only for roles that may see the name
    region.template = AnswerTemplate.objects.create(
        topic=region.topic, name="Кровля отремонтирована", text="Уважаемый(ая) {имя}! По обращению {номер} …"
    )
    # a person of each district's company, whom a supervisor may hand the company's appeals to
    region.workers = {
        "inside": region.users[Role.EXECUTOR],
        "outside": user_with_role(
            Role.EXECUTOR, organisation=region.outside.company, username="исполнитель-окружной", password=None
        ),
    }
    region.report = WeeklyReport.objects.create(
        week_start=report.last_full_week() - timezone.timedelta(days=7),
        state=ReportState.READY,
        html="<p>…</p>",
    )
    region.report.pdf.save("doklad.pdf", ContentFile(b"%PDF-1.7 matrix"))
    # a post of a city community waiting for the moderator (its author is personal data)
    source = Source.objects.create(
        watchlist=WatchList.objects.create(name="Город"), network="vk", name="Подслушано", token_env="NONE"
    )
    region.post = Post.objects.create(
        source=source,
        network="vk",
        external_id="wall-1_1",
        author_name="Пётр Соседов",
        text="Кто знает, когда откроют каток?",
        posted_at=timezone.now(),
        found_at=timezone.now(),
        fingerprint="",
    )
    appeal = region.inside.appeal
    region.key = access.issue(appeal)
    Appeal.objects.filter(pk=appeal.pk).update(access_key_hash=appeal.access_key_hash)
    return region


def test_the_matrix_names_every_route():
    named = {(route, method) for route, method, _obj, _cells in rows()}
    known = set(routes())
    assert sorted(known - named) == [], "routes with no row in MATRIX: add them"
    assert sorted(named - known) == [], "rows in MATRIX for routes that are gone"


def routes():
    """(qualified name, method) of every route: DRF views say their methods; for the others every
    method the table names is taken as theirs (their decorators refuse the rest)."""
    table = {}
    for route, method, _obj, _cells in rows():
        table.setdefault(route, set()).add(method)
    for name, callback in walk(get_resolver().url_patterns):
        actions = getattr(callback, "actions", None)
        methods = (
            {m.upper() for m in actions if m.upper() in ("GET", "POST", "PUT", "PATCH", "DELETE")}
            if actions
            else table.get(name, {"?"})
        )
        for method in methods:
            yield name, method
    yield "admin:index", "GET"


def walk(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == site.name:
                continue  # the admin site's own pages: each checks staff itself; its index is in MATRIX
            inner = ":".join(n for n in (namespace, pattern.namespace) if n)
            yield from walk(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            assert pattern.name, f"a route without a name: {pattern.pattern}"
            yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), pattern.callback


@pytest.mark.parametrize("role", fixture_region.ROLES)
def test_every_route_answers_the_role_as_the_matrix_says(region, role, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = region.users[role]
    wrong = []
    for route, method, obj, cells in rows():
        has_object = obj != "-"
        inside, outside = expected(cells[role], has_object)
        for side_name, want in (
            (("inside", inside), ("outside", outside)) if has_object else (("inside", inside),)
        ):
            got, leaked, changed = attempt(region, user, role, route, method, obj, side_name)
            if not matches(got, want):
                wrong.append(
                    f"{route} {method} {side_name}: {got.status_code} {got.get('Location', '')}, expected {want}"
                )
            if changed:
                wrong.append(
                    f"{route} {method} {side_name}: refused with {got.status_code} but changed {changed}"
                )
            if leaked:
                wrong.append(f"{route} {method} {side_name}: shows {leaked}")
    assert wrong == [], "\n".join(wrong)


def matches(response, want: str) -> bool:
    if want == "→":
        location = response.get("Location", "")
        return response.status_code == 302 and ("/login/" in location)
    return response.status_code == int(want)


def attempt(region, user, role, route, method, obj, side_name):
    """One request in a savepoint rolled back after it: every cell starts from the same region."""
    cache.clear()  # rate limits
    client = Client()
    if user is not None:
        client.force_login(user)
    with transaction.atomic():
        if route == "web:dispatch-clear":  # only an alarm seen first may be cleared
            Alarm.objects.update(state=AlarmState.ACKNOWLEDGED)
        status = GIVEN_STATUS.get(route)
        if status is not None:
            Appeal.objects.filter(pk__in=[region.inside.appeal.pk, region.outside.appeal.pk]).update(
                status=status, closed_at=timezone.now() if status == Status.CLOSED else None
            )
        if status == Status.REVIEW:  # an answer waits for its reviewer, written by somebody else
            for appeal in (region.inside.appeal, region.outside.appeal):
                AppealEvent.objects.create(
                    appeal=appeal,
                    kind=EventKind.ANSWER_SUBMITTED,
                    at=timezone.now(),
                    status_from=Status.IN_WORK,
                    status_to=Status.REVIEW,
                    reason="Кровля над квартирой отремонтирована 3 марта",
                )
        before = snapshot()
        path, data = the_request(region, route, method, obj, side_name, role)
        response = send(client, method, path, data, route)
        changed = []
        if response.status_code >= 400 or matches(response, "→"):
            after = snapshot()
            changed = [name for name in before if before[name] != after[name]]
        body = text_of(response)
        transaction.set_rollback(True)
    hidden = [*PERSONAL["outside"]] if role != Role.ADMINISTRATOR else []
    if role == Role.SYSTEM and route.startswith("open311:"):
        # Decision 0006: an Open311 application with a key gets every appeal's text and address as
        # written, so the other district's flat too; never a name, a phone or an e-mail.
        hidden = [value for value in hidden if not value.startswith("кв.")]
    if role not in ENTITLED:
        hidden += PERSONAL["inside"]
    leaked = [value for value in hidden if value in body]
    return response, leaked, changed
