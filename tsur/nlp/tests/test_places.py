import pytest

from tsur.nlp import places


@pytest.mark.parametrize(
    ("text", "street", "house", "corpus"),
    [
        ("На улице Мебельная дом 47 корпус 1 не вывозят мусор", "мебельный", "47", "1"),
        ("во дворе дома 3 по Днепропетровской ул. куча щебня", "днепропетровский", "3", ""),
        ("Комендантский пр. 69, 16я парадная", "комендантский", "69", ""),
        ("ул. Ленина, д. 5, к. 2 яма на дороге", "ленин", "5", "2"),
        ("у дома 12 по проспекту Просвещения", "просвещение", "12", ""),
        ("Яма на Невском проспекте", "невский", "", ""),
    ],
)
def test_streets_and_houses_are_found_in_free_text(text, street, house, corpus):
    mention = places.extract_address(text)
    assert (mention.street, mention.house, mention.corpus) == (street, house, corpus)
    assert mention.text and mention.text in text


@pytest.mark.parametrize("text", ["мусор", "Во дворе 5 машин стоят на газоне", ""])
def test_no_street_no_place(text):
    assert places.extract_address(text).street == ""


def test_register_addresses_reduce_to_the_same_keys():
    parsed = places.parse_register_address("г.Санкт-Петербург, Мебельная улица, дом 47, корпус 1, литера А")
    assert (parsed.street, parsed.house, parsed.corpus) == ("мебельный", "47", "1")
    assert places.parse_register_address("г. Город, без улицы") is None
    assert places.street_key("ул. Мебельной") == places.street_key("МЕБЕЛЬНАЯ УЛИЦА") == "мебельный"


def test_text_is_matched_to_the_building_and_a_street_to_its_only_district():
    north, south = 1, 2
    index = places.BuildingIndex.build(
        [
            (10, "г. Город, Мебельная улица, дом 47, корпус 1", north),
            (11, "г. Город, Мебельная улица, дом 49", north),
            (12, "г. Город, Садовая улица, дом 1", north),
            (13, "г. Город, Садовая улица, дом 90", south),
            (14, "г. Город, без улицы", north),
        ]
    )

    exact = places.locate("ул. Мебельная, д. 47, корп. 1 — протекает крыша", index)
    assert (exact.building_id, exact.territory_id) == (10, None)
    assert places.locate("ул. Мебельная, д. 47 — протекает крыша", index).building_id == 10

    street_only = places.locate("На Мебельной улице яма", index)
    assert (street_only.building_id, street_only.territory_id) == (None, north)

    # a street that crosses districts tells nothing about the territory
    assert places.locate("На Садовой улице яма", index).territory_id is None
    assert places.locate("Садовая ул., д. 500", index).building_id is None


def test_organisations_named_in_the_text_are_matched_to_the_register():
    candidates = [(7, "ООО «Жилкомсервис № 2 Приморского района»"), (8, "Жилкомсервис № 3 Невского района")]
    names = places.organisation_names('УК "Жилкомсервис №2 Приморского района" не реагирует на заявки')
    assert names
    assert places.match_organisations(names, candidates) == [7]
    assert places.match_organisations(["Рога и копыта"], candidates) == []


def test_a_house_on_a_street_name_two_territories_share_is_chosen_only_by_where_the_appeal_can_be():
    north, south = 1, 2
    index = places.BuildingIndex.build(
        [
            (10, "г. Город, Петровский проспект, дом 5", north),
            (11, "г. Город, Петровская улица, дом 5", south),
            (12, "г. Город, Петровская улица, дом 7", south),
        ]
    )
    text = "Петровский пр-кт, д. 5 — не горит фонарь"

    unresolved = places.locate(text, index)
    by_place = places.locate(text, index, within={north})

    assert (unresolved.building_id, unresolved.territory_id, unresolved.ambiguous) == (
        None,
        None,
        [north, south],
    )
    assert unresolved.as_data()["ambiguous_territories"] == [north, south]
    assert (by_place.building_id, by_place.ambiguous) == (10, [])
    assert places.locate("Петровская ул., д. 7", index).building_id == 12  # one house of that number: found
    assert places.locate("Петровская ул., д. 7", index, within={north}).building_id is None


def test_a_point_is_placed_among_the_buildings_around_it():
    index = places.PointIndex.build([(1, 55.1000, 37.2000, 7), (2, 55.1010, 37.2000, 7), (3, 55.2, 37.5, 8)])

    around = index.around(55.1002, 37.2000, 300)

    assert [(round(metres), pk, territory) for metres, pk, territory in around] == [(22, 1, 7), (89, 2, 7)]
    assert index.around(55.15, 37.35, 300) == []


def test_a_text_read_again_gives_a_mention_of_its_own():
    """The readings of the last texts are kept; what a caller fills in (`locate`: the building, the
    territories it could not choose among) is its own and not seen by the next reader."""
    text = "ул. Ленина, д. 5, к. 2 яма на дороге"
    first = places.extract_address(text)
    first.building_id, first.territory_id = 7, 3
    first.ambiguous.append(3)
    first.organisations.append("УК Ленина")

    again = places.extract_address(text)

    assert (again.street, again.house, again.corpus) == ("ленин", "5", "2")
    assert (again.building_id, again.territory_id, again.ambiguous, again.organisations) == (
        None,
        None,
        [],
        [],
    )
