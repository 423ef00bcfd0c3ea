"""A watch-list's areas filter: an actionable post that names a place outside the watch-list's
territories is kept, marked with the territory it names and listed for the moderator, but opens no
incident of this region; a post about a place inside, or naming none, goes on as before; a
watch-list with no territories covers everywhere."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tsur.appeals.choices import Channel
from tsur.appeals.models import Appeal
from tsur.core.choices import TerritoryKind
from tsur.core.tests.factories import BuildingFactory, TerritoryFactory
from tsur.social import actions, selectors
from tsur.social.choices import LabelledBy
from tsur.social.connectors import Item
from tsur.social.models import Post

from .factories import SourceFactory

pytestmark = pytest.mark.django_db
MSK = ZoneInfo("Europe/Moscow")
MORNING = datetime(2026, 3, 3, 10, 0, tzinfo=MSK)
IN_NORTH = "Не вывозят мусор на ул. Лесной, д. 5, баки переполнены неделю"
IN_SOUTH = "Не вывозят мусор на ул. Садовой, д. 3, баки переполнены неделю"
NOWHERE = "Во дворе яма на дороге, машины бьют колёса"


@pytest.fixture
def region():
    """A city with a northern and a southern district, a house in each."""
    city = TerritoryFactory(name="Город", kind=TerritoryKind.URBAN_OKRUG)
    north = TerritoryFactory(name="Северный район", parent=city)
    south = TerritoryFactory(name="Южный район", parent=city)
    BuildingFactory(address="г. Город, Лесная улица, дом 5", territory=north)
    BuildingFactory(address="г. Город, Садовая улица, дом 3", territory=south)
    return {"city": city, "north": north, "south": south}


def source_covering(*territories):
    source = SourceFactory()
    source.watchlist.territories.set(territories)
    return source


def ingest(source, external_id: str, text: str):
    return actions.ingest(source, [Item(external_id, text, MORNING - timedelta(minutes=5))], at=MORNING)


def test_a_post_about_a_house_in_the_area_opens_an_incident(region):
    report = ingest(source_covering(region["north"]), "wall-1_1", IN_NORTH)

    post = Post.objects.get(external_id="wall-1_1")
    assert (report.elsewhere, len(report.incidents)) == (0, 1)
    assert post.incident_id == report.incidents[0]
    assert post.elsewhere is None


def test_a_post_about_a_house_outside_the_area_is_kept_marked_and_opens_nothing(region):
    report = ingest(source_covering(region["north"]), "wall-1_1", IN_SOUTH)

    post = Post.objects.get(external_id="wall-1_1")
    assert (report.elsewhere, report.incidents, report.attached) == (1, [], 0)
    assert (post.label, post.labelled_by, post.incident) == ("complaint", LabelledBy.RULE, None)
    assert post.elsewhere == region["south"]
    assert not Appeal.objects.filter(channel=Channel.SOCIAL).exists()
    assert list(selectors.elsewhere()) == [post]
    assert selectors.figures(MORNING)["elsewhere"] == 1


def test_a_district_named_outside_the_area_is_outside_too(region):
    report = ingest(source_covering(region["north"]), "wall-1_1", "В Южном районе не вывозят мусор неделю")

    assert (report.elsewhere, report.incidents) == (1, [])
    assert Post.objects.get(external_id="wall-1_1").elsewhere == region["south"]


def test_a_post_naming_no_place_stays_in(region):
    report = ingest(source_covering(region["north"]), "wall-1_1", NOWHERE)

    assert (report.elsewhere, len(report.incidents)) == (0, 1)
    assert Post.objects.get(external_id="wall-1_1").elsewhere is None


def test_a_place_containing_the_area_cannot_tell_and_stays_in(region):
    """A watch-list of a settlement inside the southern district: a house of the district itself is
    not clearly outside."""
    settlement = TerritoryFactory(name="Посёлок", kind=TerritoryKind.SETTLEMENT, parent=region["south"])

    report = ingest(source_covering(settlement), "wall-1_1", IN_SOUTH)

    assert (report.elsewhere, len(report.incidents)) == (0, 1)


def test_a_house_in_a_territory_below_the_area_is_in_it(region):
    report = ingest(source_covering(region["city"]), "wall-1_1", IN_SOUTH)

    assert (report.elsewhere, len(report.incidents)) == (0, 1)


def test_a_watch_list_without_territories_covers_everywhere(region):
    report = ingest(SourceFactory(), "wall-1_1", IN_SOUTH)

    assert (report.elsewhere, len(report.incidents)) == (0, 1)
    assert Post.objects.get(external_id="wall-1_1").elsewhere is None


def test_the_moderator_takes_a_post_outside_the_area_in(region):
    ingest(source_covering(region["north"]), "wall-1_1", IN_SOUTH)
    post = Post.objects.get(external_id="wall-1_1")

    actions.decide(post, None, post.label, at=MORNING + timedelta(minutes=1))

    post.refresh_from_db()
    assert post.incident is not None
    assert post.labelled_by == LabelledBy.MODERATOR
    assert list(selectors.elsewhere()) == []
