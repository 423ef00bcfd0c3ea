"""A small region for the authorization matrix and the fuzzers: two districts, each with a management
company, an appeal about a flat, a complaint-book ticket, an engineering object with an alarm and an
outage; a user of every role scoped to the first district (the administrator to the whole region);
and the citizens' personal data planted as values that cannot occur by chance."""

import io
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image
from rest_framework.authtoken.models import Token

from tsur.appeals.choices import Channel, Status
from tsur.appeals.models import AppealPhoto
from tsur.appeals.tests.factories import AppealFactory, RuleFactory, TicketFactory, TopicFactory
from tsur.core.choices import OrganisationKind, Role, TerritoryKind
from tsur.core.tests.factories import BuildingFactory, OrganisationFactory, TerritoryFactory, user_with_role
from tsur.dispatch.models import OutageAppeal
from tsur.dispatch.tests.factories import AlarmFactory, EngineeringObjectFactory, OutageFactory
from tsur.open311.models import ApiClient

ROLES = (
    Role.OPERATOR,
    Role.EXECUTOR,
    Role.SUPERVISOR,
    Role.ANALYST,
    Role.LEADERSHIP,
    Role.DISPATCHER,
    Role.ADMINISTRATOR,
    Role.CITIZEN,
    Role.SYSTEM,
    "anonymous",
)
# The citizen of the first district, and of the second: whole bodies are searched for these.
PERSONAL = {
    "inside": ("Пантелеймонова", "Евлампия", "+7 911 555-43-21", "pantelei517@example.org", "кв. 517"),
    "outside": ("Веселовская", "Августина", "+7 921 000-88-62", "veselo862@example.org", "кв. 862"),
}
HOUSE = {"inside": "ул. Садовая, д. 12", "outside": "пр. Окружной, д. 40"}


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "steelblue").save(buffer, "PNG")
    return buffer.getvalue()


PNG = _png()  # a photo whose file is really there


@dataclass
class Side:
    """What lies in one district: inside the users' scope, or outside it."""

    territory: object
    company: object
    building: object
    citizen: object
    appeal: object
    second_appeal: object
    photo: object
    ticket: object
    alarm: object
    outage: object


@dataclass
class Region:
    topic: object
    inside: Side
    outside: Side
    users: dict = field(default_factory=dict)  # role → user (None for anonymous)
    tokens: dict = field(default_factory=dict)  # role → API token key
    open311_key: str = ""  # the key of the Open311 client whose account is the system user
    other_company: object = None  # where appeals of either district may be redirected


def _side(name: str, region_territory, topic, system_user) -> Side:
    territory = TerritoryFactory(name=f"{name} район", parent=region_territory)
    company = OrganisationFactory(
        name=f"УК «{name}»", kind=OrganisationKind.MANAGEMENT_COMPANY, email=f"{name}@uk.example.org"
    )
    RuleFactory(topic=topic, territory=territory, organisation=company)
    key = "inside" if system_user else "outside"
    surname, first_name, phone, email, flat = PERSONAL[key]
    building = BuildingFactory(address=HOUSE[key], territory=territory, management_company=company)
    citizen = user_with_role(
        Role.CITIZEN, username=phone, first_name=first_name, last_name=surname, email=email, password=None
    )
    appeal = AppealFactory(
        status=Status.IN_WORK,
        channel=Channel.OPEN311 if system_user else Channel.PORTAL,
        topic=topic,
        organisation=company,
        territory=territory,
        building=building,
        address=f"{HOUSE[key]}, {flat}",
        latitude=59.93,
        longitude=30.31,
        author=citizen,
        submitted_by=system_user,
        author_name=f"{surname} {first_name}",
        author_phone=phone,
        author_email=email,
        text="Протекает потолок в ванной",
    )
    second_appeal = AppealFactory(
        status=Status.IN_WORK, topic=topic, organisation=company, territory=territory, building=building
    )
    photo = AppealPhoto.objects.create(
        appeal=appeal,
        image=ContentFile(PNG, name="leak.png"),
        content_type="image/png",
        size=len(PNG),
        width=64,
        height=48,
        uploaded_at=timezone.now(),
    )
    ticket = TicketFactory(
        organisation=company,
        building=building,
        address=appeal.address,
        citizen_name=f"{surname} {first_name}",
        citizen_phone=phone,
    )
    utility = OrganisationFactory(name=f"Теплосеть «{name}»", kind=OrganisationKind.UTILITY)
    boiler = EngineeringObjectFactory(owner=utility, territory=territory, serves=[building])
    alarm = AlarmFactory(object=boiler)
    outage = OutageFactory(object=boiler, alarm=alarm)
    OutageAppeal.objects.create(outage=outage, appeal=appeal)
    return Side(territory, company, building, citizen, appeal, second_appeal, photo, ticket, alarm, outage)


def build() -> Region:
    topic = TopicFactory(code="roof-leak", name="Протечка кровли")
    whole = TerritoryFactory(name="Регион", code="region", kind=TerritoryKind.REGION)
    client, key = ApiClient.issue("Городское приложение", "Город", rate_per_minute=100_000)
    region = Region(
        topic=topic,
        inside=_side("Садовый", whole, topic, client.user),
        outside=_side("Окружной", whole, topic, None),
        open311_key=key,
    )
    region.other_company = OrganisationFactory(name="Жилищный комитет")
    district, company = region.inside.territory, region.inside.company
    scoped = {
        Role.OPERATOR: {"territory": district},
        Role.EXECUTOR: {"organisation": company},
        Role.SUPERVISOR: {"organisation": company},
        Role.ANALYST: {"territory": district},
        Role.LEADERSHIP: {"territory": district},
        Role.DISPATCHER: {"territory": district},
        Role.ADMINISTRATOR: {"is_staff": True},  # the whole region, and the admin site
    }
    for role, where in scoped.items():
        region.users[role] = user_with_role(role, username=f"{role}-садовый", password=None, **where)
    region.users[Role.CITIZEN] = region.inside.citizen
    region.users[Role.SYSTEM] = client.user
    region.users["anonymous"] = None
    region.tokens = {
        role: Token.objects.create(user=user).key for role, user in region.users.items() if user is not None
    }
    return region
