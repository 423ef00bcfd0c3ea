"""Registering an appeal, from any channel: checked, placed, understood, routed, stored with its
first events in one transaction, numbered at once, and never registered twice for one submission."""

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction

from tsur.core import db, outbound
from tsur.core.choices import Role
from tsur.core.errors import DomainError
from tsur.core.models import Building, Organisation, Territory, User
from tsur.core.text import clean_text

from .. import (
    access,
    complaint_book,
    deadlines,
    numbering,
    photos,
    policies,
    route_confidence,
    routing,
    signals,
    understanding,
)
from ..choices import Channel, ConsentSource, EventKind, Status
from ..models import Appeal, AppealEvent, AppealPhoto, ComplaintTicket, Topic
from .base import apply_route, event, moment, new_event, record, step

log = logging.getLogger(__name__)


@dataclass
class Place:
    """Where the appeal is about, as far as the filer said and the register knows."""

    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    territory: Territory | None = None
    building: Building | None = None
    kind: str = ""

    def settle_on(self, building: Building) -> None:
        """A known building: its address, point and territory fill what the filer left out."""
        self.building = building
        self.territory = self.territory or building.territory
        self.address = self.address or building.address
        if self.latitude is None and building.latitude is not None:
            self.latitude, self.longitude = building.latitude, building.longitude
        self.kind = self.kind or building.kind


@dataclass
class Routed:
    """What intake decided about the organisation: a route, or why the appeal waits in moderation."""

    route: routing.Route | None = None
    ticket: ComplaintTicket | None = None
    why_moderation: str = ""
    decision: route_confidence.Decision | None = None
    # the topic the model was not sure of, recorded because the organisation was (its probability)
    topic_guessed: float | None = None


def register(
    *,
    channel: str,
    text: str,
    external_id: str = "",
    submitted_by: User | None = None,
    author: User | None = None,
    author_name: str = "",
    author_email: str = "",
    author_phone: str = "",
    address: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    territory: Territory | None = None,
    building: Building | None = None,
    place_kind: str = "",
    topic: Topic | None = None,
    organisation: Organisation | None = None,
    priority: str = "",
    complaint_ticket_number: str = "",
    moderate: bool = False,
    photo_files=(),
    attributes: dict | None = None,
    media_url: str = "",
    personal_data_consent: bool | None = None,
    at: datetime | None = None,
) -> tuple[Appeal, bool]:
    """Register an appeal and route it; returns (appeal, created). A created appeal carries its
    private key in `appeal.access_key` (tsur.appeals.access) for the filer; it is not stored.

    The same channel id twice yields the first appeal unchanged (idempotent intake). A known topic
    with a route goes straight to the organisation; anything uncertain waits in moderation.

    `personal_data_consent` is what the interface was told: True or False from an interface where
    the citizen (or the operator on their behalf) answers, None from code that replays or imports
    appeals. False on a channel where the citizen files themselves is a refusal.
    """
    at = moment(at)
    if channel not in Channel.values:
        raise DomainError(f"Неизвестный канал «{channel}».", field="channel")
    source = consent_source(channel, submitted_by, personal_data_consent)
    external_id = (external_id or "").strip()[:128]
    text = clean_text(text)
    key = intake_key(
        channel,
        external_id,
        submitted_by,
        text,
        author_name,
        author_email,
        author_phone,
        address,
        latitude,
        longitude,
        topic.pk if topic else None,
    )
    place = _place(address, latitude, longitude, territory, building, place_kind)
    if media_url:
        # whoever opens the link later (an operator's browser, a preview) must not be led into the
        # platform's own network
        outbound.check_url(media_url, what="Ссылка на фото или видео", field="media_url")
    author_name = clean_text(author_name, field="author_name", required=False, limit=200)
    photo_files = list(photo_files)
    if len(photo_files) > settings.TSUR["PHOTO_MAX_COUNT"]:
        raise DomainError(f"Не больше {settings.TSUR['PHOTO_MAX_COUNT']} фото.", field="photos")
    inspected = [photos.inspect(f) for f in photo_files]
    understood = None
    if topic is None and organisation is None and not moderate:
        understood = _understand(text, place)
        if understood is not None and understood.topic_trusted:
            topic = understood.topic

    actor = submitted_by or author
    try:
        with transaction.atomic():
            appeal = Appeal(
                number=numbering.issue(at),
                channel=channel,
                external_id=external_id,
                intake_key=key,
                submitted_by=submitted_by,
                author=author,
                author_name=author_name,
                author_email=author_email or "",
                author_phone=author_phone or "",
                text=text,
                address=place.address,
                latitude=place.latitude,
                longitude=place.longitude,
                territory=place.territory,
                building=place.building,
                place_kind=place.kind,
                topic=topic,
                priority=priority or (topic.priority if topic else "normal"),
                status=Status.REGISTERED,
                registered_at=at,
                clock_started_at=at,
                attributes=attributes or {},
                media_url=media_url or "",
                consent_at=at if source else None,
                consent_source=source,
            )
            # the author's private link, shown once: kept on the object returned, never stored
            appeal.access_key = access.issue(appeal)
            deadlines.start_clock(appeal, at)
            routed = _route_at_intake(appeal, organisation, understood, moderate, complaint_ticket_number, at)
            # One insert: the appeal is stored in the status its registration ends in; the timeline
            # still shows both steps (registered, then assigned or sent to moderation).
            appeal.status = Status.ASSIGNED if routed.route else Status.MODERATION
            db.insert([appeal])
            record(_first_events(appeal, actor, at, understood, routed))
            for upload, (content_type, width, height) in zip(photo_files, inspected, strict=True):
                _store_photo(appeal, upload, content_type, width, height, actor, at)
            if appeal.topic_id and (appeal.building_id or appeal.latitude is not None):
                transaction.on_commit(lambda: signals.appeal_placed.send(Appeal, appeal=appeal))
    except IntegrityError:
        # The same channel id was registered before (or concurrently): answer with that appeal.
        existing = Appeal.objects.filter(intake_key=key).first() if key else None
        if existing is None:
            raise
        return existing, False
    return appeal, True


def consent_source(channel: str, submitted_by: User | None, given: bool | None) -> str:
    """Who recorded the consent ("" when none was): the citizen on their own channels, where it is
    required; the operator at the hotline or a desk, who asks the citizen; a system that took the
    appeal and the consent with it. Without consent a staff or system channel still registers the
    appeal: considering it is the region's duty under 59-ФЗ (decision 0010)."""
    if channel in policies.CITIZEN_CHANNELS:
        if given is False:
            raise DomainError(
                "Чтобы подать обращение, подтвердите согласие на обработку персональных данных "
                "(152-ФЗ): без него обращение не принимается.",
                code="consent_required",
                field="personal_data_consent",
            )
        return ConsentSource.CITIZEN if given else ""
    if not given:
        return ""
    if submitted_by is not None and submitted_by.has_role(Role.SYSTEM):
        return ConsentSource.SYSTEM
    return ConsentSource.OPERATOR


def _place(address, latitude, longitude, territory, building, kind) -> Place:
    """The place as given, checked, and completed from the known building at the address."""
    address = clean_text(address, field="address", required=False, limit=400)
    if (latitude is None) != (longitude is None):
        raise DomainError("Укажите обе координаты: широту и долготу.", field="latitude")
    if latitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise DomainError("Координаты вне допустимого диапазона.", field="latitude")
    place = Place(address, latitude, longitude, territory, None, kind)
    if building is None and address:
        building = building_at(address)
    if building is not None:
        place.settle_on(building)
    if place.territory is None and latitude is not None:
        # only where the buildings around the point agree on it (understanding.territory_at)
        place.territory = understanding.territory_at(latitude, longitude)
    return place


def _understand(text: str, place: Place, model=None):
    """What the text model (the register's, unless `model` is given) makes of the appeal; the place
    it finds fills what the filer left out. None without a model or when the model fails: the model
    is an aid, the appeal is registered."""
    try:
        understood = understanding.understand(
            text,
            place_kind=place.kind,
            territory=place.territory,
            building=place.building,
            address=place.address,
            model=model,
        )
    except Exception:
        log.exception("text model failed on an appeal; it goes to moderation")
        return None
    if understood is None:
        return None
    if understood.building is not None and place.building is None:
        place.settle_on(understood.building)
    if understood.territory is not None and place.territory is None:
        place.territory = understood.territory
    return understood


def _decide(topic, understood, place: Place, *, use_calibration: bool = True) -> route_confidence.Decision:
    """The organisations intake could choose, each with the probability that it is the right one."""
    if understood is None:
        topics = [route_confidence.TopicChoice(topic, 1.0, True)] if topic is not None else []
        organisations = []
    else:
        topics = [
            route_confidence.TopicChoice(choice, p, i == 0 and understood.topic_trusted)
            for i, (choice, p) in enumerate(understood.topic_choices)
        ]
        organisations = [
            (choice, p, i == 0 and understood.organisation_trusted)
            for i, (choice, p) in enumerate(understood.organisation_choices)
        ]
    return route_confidence.decide(
        topics=topics,
        organisations=organisations,
        model_promise=understood.promise if understood is not None else 0.0,
        territory=place.territory,
        building=place.building,
        latitude=place.latitude,
        longitude=place.longitude,
        place_kind=place.kind,
        calibration=route_confidence.current_calibration(),
        use_calibration=use_calibration and understood is not None,
    )


def consider(
    *,
    text: str,
    address: str = "",
    latitude=None,
    longitude=None,
    place_kind: str = "",
    use_calibration=True,
    model=None,
) -> tuple[Place, object, route_confidence.Decision]:
    """What intake would make of an appeal, stored nowhere: its place, what the text model read and
    the routing decision (for calibrating on held-out appeals and for benchmarks); `model`: a text
    model other than the register's (one that did not learn this appeal, `routing_cross_fit`)."""
    place = _place(address, latitude, longitude, None, None, place_kind)
    understood = _understand(clean_text(text), place, model)
    topic = understood.topic if understood is not None and understood.topic_trusted else None
    return place, understood, _decide(topic, understood, place, use_calibration=use_calibration)


def _route_at_intake(
    appeal: Appeal, organisation, understood, moderate: bool, ticket_number: str, at: datetime
) -> Routed:
    """The organisation named by the filer, or the best candidate when it is likely enough to be
    right (`route_confidence`); a complaint about a management company only with an unfulfilled
    complaint-book ticket."""
    topic = appeal.topic
    trusted = understood is not None and understood.topic_trusted
    route = decision = guessed = None
    if organisation is not None:
        route = routing.Route(organisation, None, f"Указано при регистрации: «{organisation}»")
    elif not moderate:
        place = Place(
            appeal.address,
            appeal.latitude,
            appeal.longitude,
            appeal.territory,
            appeal.building,
            appeal.place_kind,
        )
        decision = _decide(topic, understood, place)
        if decision.automatic and topic is None:
            # the organisation is sure though the topic is not (sibling topics of one organisation):
            # the appeal goes there with the most probable of those topics, marked as the model's guess
            topic, guessed = _guessed_topic(decision.best, understood)
            if topic is not None:
                given_priority = appeal.priority
                appeal.topic = topic
                if given_priority == "normal":
                    appeal.priority = topic.priority
                deadlines.start_clock(appeal, at)
        if topic is not None and decision.automatic:
            route = decision.route()
    if (
        route
        and (trusted or guessed is not None)
        and not ticket_number
        and complaint_book.applies(topic, route.organisation)
    ):
        # A guessed topic must not refuse the citizen for want of a complaint-book ticket: an
        # operator decides.
        if guessed is not None:
            appeal.topic, appeal.priority = None, given_priority
            deadlines.start_clock(appeal, at)
        return Routed(
            why_moderation="Тема по тексту требует заявки из книги жалоб: решает оператор", decision=decision
        )
    if route is None:
        return Routed(
            why_moderation=_why_moderation(topic, understood, moderate, decision), decision=decision
        )
    ticket = None
    if complaint_book.applies(topic, route.organisation):
        ticket = complaint_book.unfulfilled_ticket(
            route.organisation, ticket_number, at, building=appeal.building
        )
        appeal.complaint_ticket = ticket
    apply_route(appeal, route)
    return Routed(route=route, ticket=ticket, decision=decision, topic_guessed=guessed)


def _guessed_topic(best: route_confidence.Candidate, understood) -> tuple[Topic | None, float | None]:
    """The most probable of the model's topics that lead to the chosen organisation, with its
    probability; none when no topic does (only the executor model named it): an operator decides."""
    topic = best.likely_topic()
    if topic is None or understood is None:
        return None, None
    return topic, next((p for choice, p in understood.topic_choices if choice.pk == topic.pk), 0.0)


def _why_moderation(topic, understood, moderate: bool, decision) -> str:
    if topic is None:
        return "Модель не уверена в теме" if understood is not None else "Тема не определена"
    if moderate:
        return "По запросу"
    if decision is None or decision.best is None:
        return "Не найден маршрут"
    best = decision.best
    return (
        f"Маршрут не надёжен: «{best.organisation}» с вероятностью {best.p:.2f} "
        f"(для автоматической маршрутизации нужно не меньше {decision.threshold:.2f})"
    )


def _first_events(appeal: Appeal, actor, at: datetime, understood, routed: Routed) -> list[AppealEvent]:
    """Registered; what the model understood; the complaint-book ticket; assigned or sent to
    moderation — all at the moment of registration."""
    registered = {"channel": appeal.channel}
    if appeal.external_id:
        registered["external_id"] = appeal.external_id
    first = {"status_to": Status.REGISTERED, "organisation": None}
    events = [new_event(appeal, EventKind.REGISTERED, actor, at, data=registered, public=True, **first)]
    if understood is not None:
        events.append(
            new_event(appeal, EventKind.UNDERSTOOD, None, at, data=understood.as_event_data(), **first)
        )
    if routed.ticket is not None:
        events.append(complaint_event(appeal, routed.ticket, actor, at, **first))
    if routed.route is not None:
        events.append(
            new_event(
                appeal,
                EventKind.ASSIGNED,
                None,
                at,
                status_from=Status.REGISTERED,
                reason=routed.route.reason,
                public=True,
                data=_route_data(routed, automatic=True),
            )
        )
    else:
        events.append(
            new_event(
                appeal,
                EventKind.SENT_TO_MODERATION,
                None,
                at,
                status_from=Status.REGISTERED,
                reason=routed.why_moderation,
                data=_route_data(routed),
            )
        )
    return events


def _route_data(routed: Routed, **data) -> dict:
    """The decision as the timeline keeps it: for an automatic route its path and probability, for
    moderation the top three candidates with their reasons (the operator's suggestions)."""
    decision = routed.decision
    if decision is None or decision.best is None:
        return data
    if routed.route is not None and routed.route.organisation == decision.best.organisation:
        data |= {"path": decision.best.path, "p": round(decision.best.p, 4)}
    if routed.topic_guessed is not None:
        data["topic_guessed"] = round(routed.topic_guessed, 4)
    return data | decision.as_data()


def complaint_event(appeal: Appeal, ticket: ComplaintTicket, actor, at: datetime, **fields) -> AppealEvent:
    """The complaint reached the region through the complaint book: the company's late ticket,
    which the companies' effectiveness counts."""
    return new_event(
        appeal,
        EventKind.COMPLAINT_LINKED,
        actor,
        at,
        data={
            "ticket": ticket.number,
            "organisation": ticket.organisation_id,
            "ticket_due_at": ticket.due_at.isoformat(),
        },
        **fields,
    )


def building_at(address: str) -> Building | None:
    """The known building at an address, its territory taken from the routing table. Most
    registrations ask this, so the query is written out once rather than compiled each time."""
    building = db.get_by(Building, "address_key", Building.key_for(address))
    if building is None:
        return None
    territory = routing.table().territories.get(building.territory_id)
    if territory is not None:
        building.territory = territory
    return building


def intake_key(channel: str, external_id: str, submitted_by: User | None, *content) -> str | None:
    """What makes two submissions the same: a signed-in sender's own id on a channel; for an anonymous
    sender, the id together with everything submitted, so only a true retry matches."""
    if not external_id:
        return None
    if submitted_by is not None and submitted_by.pk:
        return f"u{submitted_by.pk}:{channel}:{external_id}"
    digest = hashlib.sha256("\n".join(map(str, (channel, external_id, *content))).encode()).hexdigest()
    return f"anon:{digest}"


def _store_photo(appeal, upload, content_type, width, height, actor, at) -> AppealPhoto:
    # the copy's own size: turned upright from the EXIF orientation, it may be the other way round
    clean, width, height = photos.clean_copy(upload, content_type)
    photo = AppealPhoto(
        appeal=appeal,
        content_type=content_type,
        size=clean.size,
        width=width,
        height=height,
        uploaded_by=actor if actor and actor.pk else None,
        uploaded_at=at,
    )
    photo.image.save(clean.name, clean, save=False)
    photo.save()
    return photo


def add_photo(appeal: Appeal, actor: User | None, upload, *, at: datetime | None = None) -> AppealPhoto:
    """A photo added to an open appeal (checked before the appeal is locked: decoding takes time)."""
    inspected = photos.inspect(upload)
    return _add_photo(appeal, actor, upload=upload, inspected=inspected, at=at)


@step("add_photo")
def _add_photo(appeal: Appeal, actor, *, upload, inspected, at: datetime) -> AppealPhoto:
    if appeal.photos.count() >= settings.TSUR["PHOTO_MAX_COUNT"]:
        raise DomainError(f"Не больше {settings.TSUR['PHOTO_MAX_COUNT']} фото.", field="photos")
    photo = _store_photo(appeal, upload, *inspected, actor, at)
    event(appeal, EventKind.PHOTO_ADDED, actor, at, data={"photo": photo.pk})
    return photo
