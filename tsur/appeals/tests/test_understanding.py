"""The model at intake: confident → routes itself, unsure → moderation, operators' choices → labels."""

import io
import shutil
import time

import pytest
from django.core.management import call_command
from django.db import connection

from tsur.appeals import actions, learning, understanding
from tsur.appeals.choices import Channel, EventKind, Status
from tsur.appeals.models import AppealEvent
from tsur.appeals.tests.factories import RuleFactory, TopicFactory
from tsur.core.choices import Role, TerritoryKind
from tsur.core.models import Building
from tsur.core.tests.factories import BuildingFactory, OrganisationFactory, TerritoryFactory, user_with_role
from tsur.nlp import places
from tsur.nlp import understanding as text_model
from tsur.nlp.example import Example
from tsur.nlp.model import TextModel
from tsur.nlp.tests import region

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def region_model(tmp_path_factory):
    """A model of the made-up region (tsur/nlp/tests/region.py), trained once for the session."""
    export = region.write(tmp_path_factory.mktemp("region") / "appeals.csv")
    return region.train(export, tmp_path_factory.mktemp("models") / "region")


@pytest.fixture
def register_of_region(settings, region_model, tmp_path):
    """The made-up region in the register: its rubrics as topics, its executors, its districts."""
    model_dir = tmp_path / "model"
    shutil.copytree(region_model, model_dir)
    settings.TSUR = {**settings.TSUR, "NLP_MODEL": str(model_dir)}
    text_model.forget_models()
    topics = {name: TopicFactory(name=name) for name in region.CLASSES}
    organisations = {
        name: OrganisationFactory(name=name)
        for name in [
            "Дорожное управление",
            "Горсвет",
            "Спецавтобаза",
            "Благоустройство",
            *region.HEATING.values(),
        ]
    }
    city = TerritoryFactory(name="Город", kind=TerritoryKind.URBAN_OKRUG)
    districts = {
        name: TerritoryFactory(name=f"{name} район", kind=TerritoryKind.CITY_DISTRICT, parent=city)
        for name in region.DISTRICTS
    }
    yield {"dir": model_dir, "topics": topics, "organisations": organisations, "districts": districts}
    text_model.forget_models()


def register(text, **kwargs):
    appeal, created = actions.register(channel=Channel.PORTAL, text=text, **kwargs)
    assert created
    return appeal


def test_a_clear_appeal_routes_itself_and_the_timeline_says_why(register_of_region):
    appeal = register(
        "Не горит фонарь, на улице темно, ул. Садовая, д. 3",
        territory=register_of_region["districts"]["Южный"],
    )

    assert appeal.status == Status.ASSIGNED
    assert appeal.topic == register_of_region["topics"]["Освещение"]
    assert appeal.organisation == register_of_region["organisations"]["Горсвет"]
    assert appeal.routing_reason.startswith("Определено по тексту: «Горсвет»")
    event = AppealEvent.objects.get(appeal=appeal, kind=EventKind.UNDERSTOOD)
    assert event.public is False
    assert event.data["topic"]["code"] == appeal.topic.code
    assert event.data["topic"]["trusted"] is True
    assert event.data["organisation"]["name"] == "Горсвет"
    assert (
        event.data["organisation"]["confidence"]
        >= TextModel.load(register_of_region["dir"]).classifiers["исполнитель"].threshold
    )
    assert event.data["predictions"]["рубрика"][0]["value"] == "Освещение"
    kinds = list(AppealEvent.objects.filter(appeal=appeal).order_by("pk").values_list("kind", flat=True))
    assert kinds == [EventKind.REGISTERED, EventKind.UNDERSTOOD, EventKind.ASSIGNED]


def test_the_executor_follows_the_district(register_of_region):
    text = "Холодно, батарея и радиатор еле тёплые, отопление не работает"
    north = register(text, territory=register_of_region["districts"]["Северный"])
    south = register(text + ".", territory=register_of_region["districts"]["Южный"])

    assert north.organisation.name == "Теплосеть Северного района"
    assert south.organisation.name == "Теплосеть Южного района"


def test_an_unclear_appeal_waits_in_moderation_with_the_guess_recorded(register_of_region):
    appeal = register("Здравствуйте, прошу разобраться")

    assert appeal.status == Status.MODERATION
    assert appeal.topic is None and appeal.organisation is None
    understood = AppealEvent.objects.get(appeal=appeal, kind=EventKind.UNDERSTOOD)
    assert understood.data["topic"]["trusted"] is False
    moderation = AppealEvent.objects.get(appeal=appeal, kind=EventKind.SENT_TO_MODERATION)
    assert moderation.reason == "Модель не уверена в теме"


def test_a_trusted_topic_without_a_trusted_executor_goes_by_the_routing_rules(
    register_of_region, monkeypatch
):
    model = text_model.current_model()
    monkeypatch.setattr(model.classifiers["исполнитель"], "threshold", 1.01)
    rule_org = OrganisationFactory(name="Дежурная служба")
    RuleFactory(topic=register_of_region["topics"]["Мусор"], organisation=rule_org)

    appeal = register("Мусор, переполнен контейнер, баки не вывозят")

    assert appeal.topic.name == "Мусор"
    assert appeal.organisation == rule_org


def test_what_the_filer_chose_is_not_overridden(register_of_region):
    chosen = register_of_region["topics"]["Дороги"]
    RuleFactory(topic=chosen, organisation=register_of_region["organisations"]["Дорожное управление"])

    appeal = register("Не горит фонарь, темно", topic=chosen)

    assert appeal.topic == chosen
    assert not AppealEvent.objects.filter(appeal=appeal, kind=EventKind.UNDERSTOOD).exists()


def test_the_place_named_in_the_text_fills_building_and_territory(register_of_region):
    district = register_of_region["districts"]["Северный"]
    building = BuildingFactory(
        address="г. Город, Садовая улица, дом 12, корпус 2", territory=district, latitude=55.1, longitude=37.2
    )

    appeal = register("На ул. Садовой, д. 12, корп. 2 не горит фонарь")

    assert appeal.building == building
    assert appeal.territory == district
    assert (appeal.latitude, appeal.longitude) == (55.1, 37.2)
    event = AppealEvent.objects.get(appeal=appeal, kind=EventKind.UNDERSTOOD)
    assert event.data["place"]["building"] == building.pk


def test_without_a_model_intake_still_works(settings):
    settings.TSUR = {**settings.TSUR, "NLP_MODEL": ""}
    appeal = register("Не горит фонарь")
    assert appeal.status == Status.MODERATION
    assert not AppealEvent.objects.filter(appeal=appeal, kind=EventKind.UNDERSTOOD).exists()


def test_a_broken_model_file_sends_appeals_to_moderation_instead_of_failing(register_of_region):
    (register_of_region["dir"] / "model.joblib").write_bytes(b"not a model")
    (register_of_region["dir"] / "manifest.json").touch()
    text_model.forget_models()

    appeal = register("Не горит фонарь, темно")

    assert appeal.status == Status.MODERATION


def test_operator_corrections_teach_the_next_model(register_of_region):
    # given: a kind of problem the model has never seen, routed by operators to a new topic
    operator = user_with_role(Role.OPERATOR)
    festive = TopicFactory(name="Праздничное оформление")
    decorators = OrganisationFactory(name="Отдел праздничного оформления")
    for i in range(12):
        appeal = register(f"Гирлянда на ёлке мигает и искрит, звезда упала, номер {i}")
        if appeal.status == Status.MODERATION:
            actions.assign(appeal, operator, topic=festive, organisation=decorators)
        else:
            actions.redirect(
                appeal, operator, organisation=decorators, topic=festive, reason="не наш профиль"
            )

    # when
    call_command(
        "nlp_retrain", "--model", str(register_of_region["dir"]), "--weight", "5", stdout=io.StringIO()
    )

    # then: the new model knows the operators' topic and executor, and the old one is kept
    model = TextModel.load(register_of_region["dir"])
    assert model.manifest["register_labels"]["appeals"] == 12
    guess = model.predict([Example("На ёлке гирлянда искрит", {"район": ""})])[0]
    assert guess["рубрика"][0].value == "Праздничное оформление"
    assert guess["исполнитель"][0].value == "Отдел праздничного оформления"
    previous = TextModel.load(register_of_region["dir"].with_name("model.previous"))
    assert "Праздничное оформление" not in previous.classifiers["рубрика"].classes


def test_a_failing_model_never_costs_an_appeal(register_of_region, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("dictionary missing")

    monkeypatch.setattr(understanding, "understand", broken)
    appeal = register("Не горит фонарь, темно")
    assert appeal.pk is not None
    assert appeal.status == Status.MODERATION


def test_a_building_deleted_after_the_street_index_was_built_is_not_found(register_of_region):
    building = BuildingFactory(
        address="г. Город, Садовая улица, дом 12", territory=register_of_region["districts"]["Южный"]
    )
    assert understanding.understand("ул. Садовая, д. 12").building == building  # the index now holds it
    # deleted by another process: no signal here, the index keeps the building for minutes
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_building WHERE id = %s", [building.pk])

    appeal = register("На ул. Садовой, д. 12 не горит фонарь")

    assert appeal.building is None
    event = AppealEvent.objects.get(appeal=appeal, kind=EventKind.UNDERSTOOD)
    assert "building" not in event.data.get("place", {})


def test_labels_are_what_people_chose_not_what_the_model_guessed(register_of_region):
    operator = user_with_role(Role.OPERATOR)
    gorsvet = register_of_region["organisations"]["Горсвет"]
    guessed = register("Не горит фонарь, на улице темно")
    assert guessed.status == Status.ASSIGNED  # topic and executor by the model
    other = register_of_region["organisations"]["Спецавтобаза"]
    actions.redirect(guessed, operator, organisation=other, reason="уточнено")  # a person: executor only
    corrected = register("Непонятная просьба без темы")
    actions.assign(corrected, operator, topic=register_of_region["topics"]["Мусор"], organisation=gorsvet)

    labels = dict(learning.register_labels())

    assert labels == {guessed: False, corrected: True}


def test_a_topic_renamed_in_this_process_is_no_longer_what_the_model_names(register_of_region):
    lighting = register_of_region["topics"]["Освещение"]
    assert register("Не горит фонарь, на улице темно").topic == lighting  # the topic is now remembered

    lighting.name = "Уличное освещение"
    lighting.save()
    appeal = register("Не горит фонарь, на улице темно, который день")

    assert appeal.topic is None
    assert appeal.status == Status.MODERATION


def locate(text):
    return places.locate(text, understanding.building_index())


def test_the_street_index_follows_buildings_changed_in_this_process_at_once():
    territory = TerritoryFactory()
    assert locate("ул. Новая, д. 1").building_id is None
    building = BuildingFactory(address="г. Город, Новая улица, дом 1", territory=territory)
    assert locate("ул. Новая, д. 1").building_id == building.pk

    building.address = "г. Город, Старая улица, дом 1"
    building.save()

    assert locate("ул. Новая, д. 1").building_id is None
    assert locate("ул. Старая, д. 1").building_id == building.pk


def test_buildings_changed_by_another_process_are_seen_within_the_stated_times(monkeypatch):
    clock = [time.monotonic()]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    territory = TerritoryFactory()
    building = BuildingFactory(address="г. Город, Новая улица, дом 1", territory=territory)
    assert locate("ул. Новая, д. 1").building_id == building.pk

    # another process edits the address in place (no signal here)
    Building.objects.filter(pk=building.pk).update(address="г. Город, Старая улица, дом 1")
    clock[0] += understanding.BUILDINGS_CHECK_TTL_S + 1
    assert locate("ул. Старая, д. 1").building_id is None  # as many buildings as before: not rebuilt
    clock[0] += understanding.BUILDING_INDEX_TTL_S
    assert locate("ул. Старая, д. 1").building_id == building.pk

    # and adds a house
    [added] = Building.objects.bulk_create(
        [Building(address="г. Город, Новая улица, дом 2", address_key="новая 2", territory=territory)]
    )
    assert locate("ул. Новая, д. 2").building_id is None
    clock[0] += understanding.BUILDINGS_CHECK_TTL_S + 1
    assert locate("ул. Новая, д. 2").building_id == added.pk
