"""GeoReport v2 (https://wiki.open311.org/GeoReport_v2): discovery, services, requests, tokens.

Every request filed here goes through `actions.register`, as from any other channel: the channel is
«Open311» and the acting account is the client application's own system account, so the timeline
names the application. Keys are per client (admin: «Клиенты Open311»), each with its own rate.
"""

import logging
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from redis.exceptions import RedisError

from tsur.appeals import actions, policies
from tsur.appeals.choices import FINAL_STATUSES, Channel, EventKind
from tsur.appeals.models import Appeal, AppealEvent, Topic, TopicQuestion
from tsur.core.errors import DomainError
from tsur.core.models import Building, Territory

from . import render
from .models import ApiClient, IssuedToken

log = logging.getLogger(__name__)

MAX_DAYS = 90
MAX_REQUESTS = 1000
MAX_EXTRA_ATTRIBUTES = 20
PUBLIC_RATE_PER_MINUTE = 120
# when the shape of the API last changed (discovery's changeset)
CHANGESET = "2026-11-23T00:00:00+03:00"
MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")
CONSENT_YES = frozenset({"true", "1", "yes", "on"})


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


def endpoint(*methods):
    """A GeoReport method: format from the suffix, errors as the spec's error document."""

    def decorate(view):
        @csrf_exempt
        @require_http_methods(list(methods))
        @wraps(view)
        def wrapper(request, fmt, **kwargs):
            try:
                _refuse_nul(request)
                return view(request, fmt, **kwargs)
            except Open311Error as error:
                return render.errors(fmt, error.status, error.description)

        return wrapper

    return decorate


def _refuse_nul(request) -> None:
    """PostgreSQL cannot hold a NUL character and fails the query that carries one: a NUL anywhere in
    the parameters is the client's error (a 500 on `jurisdiction_id`, found by fuzzing, issue 15)."""
    for data in (request.GET, request.POST):
        if any("\x00" in key or any("\x00" in v for v in values) for key, values in data.lists()):
            raise Open311Error(400, "parameters may not contain NUL characters")


def _param(request, name: str) -> str:
    """A parameter from the form body or, as many clients send them, from the query string."""
    value = request.POST.get(name) if request.method == "POST" else None
    return (value if value is not None else request.GET.get(name, "")).strip()


def _over(bucket: str, limit: int) -> bool:
    """Over the limit this minute. While the cache (Redis) is unreachable the request is let through
    rather than refused with a 500 (as tsur.core.api.throttling does for the REST API)."""
    key = f"open311:rate:{bucket}:{int(timezone.now().timestamp() // 60)}"
    try:
        if cache.add(key, 1, 120):
            return limit < 1
        try:
            return cache.incr(key) > limit
        except ValueError:  # the counter expired between add and incr
            cache.set(key, 1, 120)
            return False
    except (RedisError, OSError) as error:
        log.warning("Open311 rate limit not counted, the cache is unreachable: %s", error)
        return False


def _client(request, required: bool) -> ApiClient | None:
    key = _param(request, "api_key")
    if not key:
        if required:
            raise Open311Error(403, "api_key is required")
        if _over(f"ip:{request.META.get('REMOTE_ADDR', '')}", PUBLIC_RATE_PER_MINUTE):
            raise Open311Error(429, f"rate limit of {PUBLIC_RATE_PER_MINUTE} requests per minute exceeded")
        return None
    client = ApiClient.by_key(key)
    if client is None:
        raise Open311Error(403, "api_key is not valid")
    if _over(f"client:{client.pk}", client.rate_per_minute):
        raise Open311Error(429, f"rate limit of {client.rate_per_minute} requests per minute exceeded")
    return client


def _jurisdiction(request) -> Territory | None:
    code = _param(request, "jurisdiction_id")
    if not code:
        return None
    territory = Territory.objects.filter(code=code[:64]).first()
    if territory is None:
        raise Open311Error(404, f"jurisdiction_id {code[:64]!r} not found")
    return territory


# ----------------------------------------------------------------------------------- discovery


@endpoint("GET")
def discovery(request, fmt):
    base = request.build_absolute_uri("/open311/v2/")
    return render.document(
        fmt,
        "discovery",
        None,
        {
            "changeset": CHANGESET,
            "contact": settings.TSUR.get("OPEN311_CONTACT", settings.DEFAULT_FROM_EMAIL),
            "key_service": settings.TSUR.get("OPEN311_KEY_SERVICE", "Ключ выдаёт администратор ЦУР"),
            "endpoints": [
                {
                    "specification": "http://wiki.open311.org/GeoReport_v2",
                    "url": base,
                    "changeset": CHANGESET,
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
    )


# ------------------------------------------------------------------------------------ services


def _service(topic: Topic, has_questions: bool) -> dict:
    return {
        "service_code": topic.code,
        "service_name": topic.name,
        "description": f"{topic.block.name}: {topic.name}",
        "metadata": has_questions,
        "type": "realtime",
        "keywords": ", ".join(topic.keywords) if isinstance(topic.keywords, list) else "",
        "group": topic.block.name,
    }


@endpoint("GET")
def services(request, fmt):
    _jurisdiction(request)
    topics = Topic.objects.filter(is_active=True, block__is_active=True).select_related("block")
    with_questions = set(TopicQuestion.objects.values_list("topic_id", flat=True).distinct())
    return render.document(fmt, "services", "service", [_service(t, t.pk in with_questions) for t in topics])


@endpoint("GET")
def service_definition(request, fmt, code):
    _jurisdiction(request)
    topic = Topic.objects.filter(code=code, is_active=True).first()
    if topic is None:
        raise Open311Error(404, f"service_code {code!r} not found")
    attributes = [
        {
            "variable": True,
            "code": q.code,
            "datatype": q.datatype,
            "required": q.required,
            "datatype_description": q.datatype_description,
            "order": q.order,
            "description": q.description,
            **({"values": [{"key": v["key"], "name": v["name"]} for v in q.values]} if q.values else {}),
        }
        for q in topic.questions.all()
    ]
    return render.document(
        fmt, "service_definition", None, {"service_code": topic.code, "attributes": attributes}
    )


# ------------------------------------------------------------------------------------ requests


NOTE_KINDS = frozenset({EventKind.ANSWERED, EventKind.INTERIM_ANSWER, EventKind.REJECTED, EventKind.MERGED})


@dataclass(frozen=True, slots=True)
class Note:
    """A public event of an appeal, as its request shows it."""

    at: datetime
    kind: str
    reason: str

    def get_kind_display(self) -> str:
        return str(EventKind(self.kind).label) if self.kind in EventKind.values else self.kind


def _with_timeline(appeals) -> list[Appeal]:
    """The appeals with their public events (`public_events`) and their topic's question codes
    (`question_codes`), in two more queries for the whole page, not two per request.

    Both are read as plain values: prefetched models point back at their appeal and topic, which
    would leave the whole page (up to a thousand requests and their events) in reference cycles,
    freed only by the collector's full passes, instead of at once when the answer is made."""
    found = list(appeals)
    notes, codes = defaultdict(list), defaultdict(set)
    public = AppealEvent.objects.filter(public=True, appeal__in=[a.pk for a in found]).order_by("at", "pk")
    for appeal_id, at, kind, reason in public.values_list("appeal_id", "at", "kind", "reason"):
        notes[appeal_id].append(Note(at, kind, reason))
    topics = {a.topic_id for a in found if a.topic_id}
    for topic_id, code in TopicQuestion.objects.filter(topic__in=topics).values_list("topic_id", "code"):
        codes[topic_id].add(code)
    for appeal in found:
        appeal.public_events = notes[appeal.pk]
        appeal.question_codes = codes[appeal.topic_id]
    return found


def _status_notes(appeal: Appeal) -> str:
    notes = [e.reason for e in appeal.public_events if e.kind in NOTE_KINDS]
    return policies.without_author_name(appeal, notes[-1]) if notes else ""


def _request(appeal: Appeal, show_text: bool = False) -> dict:
    return {
        "service_request_id": appeal.number,
        "status": "closed" if appeal.status in FINAL_STATUSES else "open",
        "status_notes": _status_notes(appeal),
        "service_name": appeal.topic.name if appeal.topic else "",
        "service_code": appeal.topic.code if appeal.topic else "",
        "description": appeal.text if show_text else "",
        "agency_responsible": appeal.organisation.name if appeal.organisation else "",
        "service_notice": _notice(appeal),
        "requested_datetime": appeal.registered_at,
        "updated_datetime": appeal.updated_at,
        "expected_datetime": appeal.planned_at or appeal.resolution_due,
        "address": appeal.address if show_text else policies.public_address(appeal.address),
        "address_id": appeal.building_id,
        "zipcode": "",
        "lat": appeal.latitude,
        "long": appeal.longitude,
        "media_url": appeal.media_url,
    }


def _extended(appeal: Appeal, client: ApiClient | None) -> dict:
    """Chicago-style `extensions=true`: answers to the topic's questions, where and how it came in,
    and the public timeline as notes."""
    events = appeal.public_events
    questions = appeal.question_codes
    return {
        "attributes": [
            {"code": code, "value": ", ".join(value) if isinstance(value, list) else value}
            for code, value in appeal.attributes.items()
            if code in questions or (client is not None and appeal.submitted_by_id == client.user_id)
        ],
        "extended_attributes": {
            "channel": appeal.get_channel_display(),
            "territory": appeal.territory.name if appeal.territory_id else "",
            "priority": appeal.get_priority_display(),
            "deadline_state": appeal.get_deadline_state_display(),
            "reopened": appeal.reopen_count,
        },
        "notes": [
            {
                "datetime": e.at,
                "summary": e.get_kind_display(),
                "type": "activity",
                "description": policies.without_author_name(appeal, e.reason),
            }
            for e in events
        ],
    }


def _notice(appeal: Appeal) -> str:
    if appeal.resolution_due and appeal.status not in FINAL_STATUSES:
        return f"Срок решения: {timezone.localtime(appeal.resolution_due):%d.%m.%Y %H:%M}"
    return appeal.get_status_display()


def _visible(client: ApiClient | None):
    appeals = Appeal.objects.published(client.user if client is not None else None)
    return appeals.select_related("topic", "organisation", "territory")


def _date(request_or_data, name: str):
    data = request_or_data.GET if hasattr(request_or_data, "GET") else request_or_data
    raw = data.get(name, "").strip()
    if not raw:
        return None
    try:
        moment = parse_datetime(raw.replace(" ", "+"))  # a '+' in a query string arrives as a space
    except ValueError:
        moment = None
    if moment is None or timezone.is_naive(moment):
        raise Open311Error(
            400, f"{name} must be a w3 date and time with a time zone, e.g. 2026-01-01T00:00:00Z"
        )
    return moment


@endpoint("GET", "POST")
def requests(request, fmt):
    if request.method == "POST":
        return _create(request, fmt)
    client = _client(request, required=False)
    jurisdiction = _jurisdiction(request)
    appeals = _visible(client)
    if jurisdiction is not None:
        appeals = appeals.filter(territory__path__startswith=jurisdiction.path)
    if ids := _list(request, "service_request_id"):
        # the spec: with service_request_id, every other filter but jurisdiction is ignored
        appeals = appeals.filter(number__in=[i[:20] for i in ids[:MAX_REQUESTS]])
    else:
        start, end = _date(request, "start_date"), _date(request, "end_date")
        if end is None:
            end = min(timezone.now(), start + timedelta(days=MAX_DAYS)) if start else timezone.now()
        start = start or end - timedelta(days=MAX_DAYS)
        if start > end:
            raise Open311Error(400, "start_date is after end_date")
        if end - start > timedelta(days=MAX_DAYS):
            raise Open311Error(400, f"the date range may not exceed {MAX_DAYS} days")
        appeals = appeals.filter(registered_at__gte=start, registered_at__lte=end)
        if codes := _list(request, "service_code"):
            appeals = appeals.filter(topic__code__in=codes)
        if statuses := {s.lower() for s in _list(request, "status")}:
            if statuses - {"open", "closed"}:
                raise Open311Error(400, "status must be open or closed")
            if statuses == {"open"}:
                appeals = appeals.exclude(status__in=FINAL_STATUSES)
            elif statuses == {"closed"}:
                appeals = appeals.filter(status__in=FINAL_STATUSES)
    ordered = appeals.order_by("-registered_at", "-pk")
    page, size = _positive(request, "page", 1, 10**6), _positive(request, "page_size", None, 500)
    if size is None and request.GET.get("page"):
        size = 50  # Chicago's default page
    if request.GET.get("extensions", "").lower() == "true":
        size = min(size or 100, 100)  # each request brings its notes: pages stay small
    if size is not None:
        found = _with_timeline(ordered[(page - 1) * size : page * size])
    else:
        found = _with_timeline(ordered[:MAX_REQUESTS])
    return render.document(
        fmt, "service_requests", "request", [_represent(request, a, client) for a in found]
    )


def _represent(request, appeal: Appeal, client: ApiClient | None) -> dict:
    """The citizen's own words go only to applications with a key (152-ФЗ: a text may name people);
    the public sees what, where, who answers and by when."""
    shown = _request(appeal, show_text=client is not None)
    if request.GET.get("extensions", "").lower() == "true":
        shown.update(_extended(appeal, client))
    return shown


def _list(request, name: str) -> list[str]:
    """A comma-separated parameter, which clients may also repeat (status=open&status=closed)."""
    return [item.strip() for value in request.GET.getlist(name) for item in value.split(",") if item.strip()]


def _positive(request, name: str, default, limit: int):
    raw = request.GET.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= limit:
        raise Open311Error(400, f"{name} must be a whole number from 1 to {limit}")
    return int(raw)


@endpoint("GET")
def request_detail(request, fmt, number):
    client = _client(request, required=False)
    found = _with_timeline(_visible(client).filter(number=number[:20])[:1])
    if not found:
        raise Open311Error(404, f"service_request_id {number[:20]!r} not found")
    return render.document(fmt, "service_requests", "request", [_represent(request, found[0], client)])


@endpoint("GET")
def token(request, fmt, value):
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        parsed = None
    issued = IssuedToken.objects.filter(token=parsed).select_related("appeal").first() if parsed else None
    if issued is None:
        raise Open311Error(404, f"token {value[:40]!r} not found")
    return render.document(
        fmt,
        "service_requests",
        "request",
        [{"service_request_id": issued.appeal.number, "token": str(issued.token)}],
    )


# ---------------------------------------------------------------------------------- POST requests


def _float(data, name: str) -> float | None:
    raw = data.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(400, f"{name} must be a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise Open311Error(400, f"{name} must be a number")
    return value


def _is_datetime(value: str) -> bool:
    try:
        return parse_datetime(value) is not None
    except ValueError:  # well-formed but impossible, such as month 13
        return False


def _attributes(data, topic: Topic) -> dict:
    given: dict[str, list[str]] = {}
    for key in data:
        match = re.fullmatch(r"attribute\[([^\[\]]{1,64})\](\[\])?", key)
        if match:
            given.setdefault(match.group(1), []).extend(data.getlist(key))
        elif key.startswith("attribute"):
            raise Open311Error(400, f"malformed attribute parameter {key[:80]!r}")
    questions = {q.code: q for q in topic.questions.all()}
    # Clients add attributes of their own (FixMyStreet: fixmystreet_id, title, report_url…): kept
    # as they came, within limits, for the organisation and for the way back.
    extra = sorted(set(given) - set(questions))
    if len(extra) > MAX_EXTRA_ATTRIBUTES:
        raise Open311Error(400, f"too many attributes the service does not define: {', '.join(extra[:5])}…")
    answers = {}
    for code in extra:
        values = [v.strip() for v in given[code] if v.strip()]
        if any(len(v) > 1000 for v in values):
            raise Open311Error(400, f"attribute {code!r} is too long")
        if values:
            answers[code] = values if len(values) > 1 else values[0]
    for code, question in questions.items():
        values = [v.strip() for v in given.get(code, []) if v.strip()]
        if not values:
            if question.required:
                raise Open311Error(400, f"attribute {code!r} is required: {question.description}")
            continue
        if any(len(v) > 1000 for v in values):
            raise Open311Error(400, f"attribute {code!r} is too long")
        keys = {str(v["key"]) for v in question.values}
        kind = question.datatype
        if kind == TopicQuestion.Datatype.MULTI:
            if set(values) - keys:
                raise Open311Error(400, f"attribute {code!r} must be among {sorted(keys)}")
            answers[code] = values
            continue
        if len(values) > 1:
            raise Open311Error(400, f"attribute {code!r} takes one value")
        value = values[0]
        if kind == TopicQuestion.Datatype.SINGLE and value not in keys:
            raise Open311Error(400, f"attribute {code!r} must be one of {sorted(keys)}")
        if kind == TopicQuestion.Datatype.NUMBER:
            try:
                float(value)
            except ValueError:
                raise Open311Error(400, f"attribute {code!r} must be a number") from None
        if kind == TopicQuestion.Datatype.DATETIME and not _is_datetime(value):
            raise Open311Error(400, f"attribute {code!r} must be a w3 date and time")
        answers[code] = value
    return answers


def _create(request, fmt):
    data = request.POST
    client = _client(request, required=True)
    jurisdiction = _jurisdiction(request)
    code = data.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code is required")
    topic = Topic.objects.filter(code=code[:64], is_active=True).first()
    if topic is None:
        raise Open311Error(404, f"service_code {code[:64]!r} not found")
    latitude, longitude = _float(data, "lat"), _float(data, "long")
    address = data.get("address_string", "").strip()
    building = None
    if raw_id := data.get("address_id", "").strip():
        if not raw_id.isdigit() or len(raw_id) > 12:
            raise Open311Error(400, "address_id is not valid")
        building = Building.objects.filter(pk=int(raw_id)).first()
        if building is None:
            raise Open311Error(400, f"address_id {raw_id} is not known")
    if (latitude is None or longitude is None) and not address and building is None:
        raise Open311Error(400, "a location is required: lat and long, address_string or address_id")
    description = data.get("description", "").strip()
    if len(description) > settings.TSUR["TEXT_MAX_CHARS"]:
        raise Open311Error(400, f"description may not exceed {settings.TSUR['TEXT_MAX_CHARS']} characters")
    if MARKUP.search(description) or MARKUP.search(address):
        raise Open311Error(400, "description and address_string must be plain text, without HTML")
    email = data.get("email", "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise Open311Error(400, "email is not valid") from None
    media_url = data.get("media_url", "").strip()
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            raise Open311Error(400, "media_url must be an http(s) URL") from None
        if len(media_url) > 1000:
            raise Open311Error(400, "media_url may not exceed 1000 characters")
    attributes = _attributes(data, topic)
    # the client's own id of the report makes a retry after a timeout find the first appeal
    their_id = (data.get("external_id", "") or str(attributes.get("fixmystreet_id", ""))).strip()[:128]
    name = " ".join(p for p in (data.get("first_name", "").strip(), data.get("last_name", "").strip()) if p)
    try:
        appeal, _ = actions.register(
            channel=Channel.OPEN311,
            external_id=their_id,
            text=description or topic.name,
            submitted_by=client.user,
            author_name=name[:200],
            author_email=email,
            author_phone=data.get("phone", "").strip()[:32],
            address=address,
            latitude=latitude if longitude is not None else None,
            longitude=longitude if latitude is not None else None,
            building=building,
            territory=None if building else jurisdiction,
            topic=topic,
            attributes=attributes,
            media_url=media_url,
            # the application asks its user and says so with every request (docs/open311.md)
            personal_data_consent=data.get("personal_data_consent", "").strip().lower() in CONSENT_YES,
        )
    except DomainError as error:
        raise Open311Error(400, str(error)) from error
    issued = IssuedToken.issue(appeal, client)
    return render.document(
        fmt,
        "service_requests",
        "request",
        [
            {
                "service_request_id": appeal.number,
                "token": str(issued.token),
                "service_notice": _notice(appeal),
                "account_id": "",
            }
        ],
    )
