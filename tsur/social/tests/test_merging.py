"""Merging posts into incidents: alike words about the same place within the window join; another
house, another district or a post days later opens another incident."""

from datetime import UTC, datetime, timedelta

from tsur.social.merging import Index
from tsur.social.text import fingerprint, place_key, says_not_done

AT = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def test_alike_posts_about_one_house_join_and_another_house_does_not():
    index = Index(threshold=0.4, window_hours=72)
    index.add(
        1,
        "На Будапештской 11 неделю не вывозят мусор, баки переполнены",
        AT,
        place=place_key("Будапештской 11"),
    )

    same = "Будапештская 11: баки переполнены, мусор не вывозят уже неделю!!!"
    other_house = "Будапештская 17: баки переполнены, мусор не вывозят уже неделю!!!"
    assert index.match(same, AT + timedelta(hours=2), place=place_key(same)).key == 1
    assert index.match(other_house, AT + timedelta(hours=2), place=place_key(other_house)) is None
    assert index.match(same, AT + timedelta(hours=80), place=place_key(same)) is None  # out of the window


def test_another_district_is_another_problem():
    index = Index(threshold=0.4, window_hours=72)
    index.add(1, "Во дворе не убирают снег", AT, territory_id=1)
    assert index.match("Во дворе не убирают снег", AT, territory_id=2) is None
    assert index.match("Во дворе не убирают снег", AT, territory_id=1).key == 1
    assert index.match("Во дворе не убирают снег", AT).key == 1  # no district named: the words decide


def test_fingerprint_keeps_copies_together():
    assert fingerprint("Репост: Не вывозят мусор!!! #купчино") == fingerprint("не вывозят   мусор")
    assert fingerprint("Не вывозят мусор") != fingerprint("Не вывозят снег")
    assert fingerprint("👍 !!!") == ""


def test_place_keys():
    assert place_key("Опять! (Подольская 4) окраска фасада") == "подоль|4"
    assert place_key("ул. Будапештская, д. 11 мусор") == "будапе|11"
    assert place_key("Какой красивый закат 2 раза") == ""


def test_what_says_not_done():
    assert says_not_done("Не сделано, всё как было")
    assert says_not_done("ничего не убрали")
    assert says_not_done("До сих пор стоят баки")
    assert not says_not_done("Спасибо, всё убрали")


def test_the_house_says_less_where_several_problems_are_open():
    """The same house named adds the most when its incident is the only one open there; at a block
    with three open problems it adds a third as much, and the words must say more."""
    house = place_key("Будапештская 11")
    dark = "Будапештская 11: в подъезде темно, лампочки нет"
    index = Index(threshold=0.4, window_hours=72)
    index.add(1, "На Будапештской 11 не горит свет в парадной, темно", AT, place=house)

    assert index.match(dark, AT, place=place_key(dark)).key == 1

    index.add(2, "Будапештская 11: граффити на стене у лифта", AT, place=house)
    index.add(3, "Будапештская 11: мусор на лестнице не убирают", AT, place=house)
    assert index.match(dark, AT, place=place_key(dark)) is None
    index.drop(2)
    index.drop(3)
    assert index.match(dark, AT, place=place_key(dark)).key == 1
