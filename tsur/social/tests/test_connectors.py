"""Each connector against its fake: reading since a cursor, reposts and edits, replying, and the
network's failures — rate limits (retried with back-off), expired tokens, deleted posts, dropped
connections."""

import pytest

from tsur.social.connectors import NetworkDown, PostDeleted, Target, TokenExpired
from tsur.social.connectors.ok import OKConnector
from tsur.social.connectors.telegram import TelegramConnector
from tsur.social.connectors.vk import VKConnector


def vk_connector(server, token="vk-token", **kwargs):  # noqa: S107
    return VKConnector(base_url=server.url, token=token, account="101", communities=["-101"], **kwargs)


def feed_vk(fake):
    wall = fake.add_community(101, "Подслушано Купчино", "kupchino")
    fake.add_user(5, "Иван", "Петров", "ivan_p")
    first = fake.post(wall, 5, "Во дворе на Будапештской 11 неделю не вывозят мусор", date=1_700_000_000)
    fake.post(wall, 5, "Отличный концерт вчера в парке", date=1_700_000_100)
    return wall, first


class TestVK:
    def test_reads_a_wall_since_the_cursor_with_names_and_links(self, vk):
        wall, first = feed_vk(vk.network)
        connector = vk_connector(vk)

        batch = connector.fetch({})

        assert [i.external_id for i in batch.items] == ["wall-101_2", "wall-101_1"]
        item = batch.items[1]
        assert (item.author_handle, item.author_name) == ("ivan_p", "Иван Петров")
        assert item.link == "https://vk.com/wall-101_1"
        assert item.posted_at.timestamp() == 1_700_000_000
        assert batch.cursor["walls"] == {"-101": 2}
        # nothing new: nothing read again
        assert connector.fetch(batch.cursor).items == []

    def test_an_edit_and_a_repost_are_read_as_such(self, vk):
        wall, first = feed_vk(vk.network)
        connector = vk_connector(vk)
        cursor = connector.fetch({}).cursor
        vk.network.edit(wall, first["id"], "Мусор не вывозят уже 12 дней", date=1_700_000_500)
        vk.network.post(wall, 5, "", date=1_700_000_600, repost_of=first)

        items = connector.fetch(cursor).items

        assert [(i.external_id, i.text, i.repost_of) for i in items] == [
            ("wall-101_3", "", "wall-101_1"),
            ("wall-101_1", "Мусор не вывозят уже 12 дней", ""),
        ]
        assert items[1].edited_at.timestamp() == 1_700_000_500

    def test_reply_from_the_community_and_comments_of_a_followed_thread(self, vk):
        wall, first = feed_vk(vk.network)
        connector = vk_connector(vk)

        reply_id = connector.reply(Target("wall-101_1"), "Мусор вывезен 3 марта")
        resident = vk.network.comment(wall, 1, 5, "не сделано", reply_to=int(reply_id.rsplit("_c", 1)[1]))
        batch = connector.fetch({}, follow=[Target("wall-101_1")])

        assert reply_id == "wall-101_1_c3"
        sent = [params for method, params in vk.network.calls if method == "wall.createComment"][0]
        assert (sent["from_group"], sent["message"]) == ("101", "Мусор вывезен 3 марта")
        comments = [i for i in batch.items if i.kind == "comment"]
        assert [(c.external_id, c.reply_to, c.text) for c in comments] == [
            ("wall-101_1_c3", "", "Мусор вывезен 3 марта"),
            (f"wall-101_1_c{resident['id']}", "wall-101_1_c3", "не сделано"),
        ]

    def test_rate_limit_is_retried_with_back_off(self, vk):
        feed_vk(vk.network)
        vk.network.fail("rate", "wall.get", times=2)
        connector = vk_connector(vk)
        waits = []
        connector.sleep = waits.append

        batch = connector.fetch({})

        assert len(batch.items) == 2
        assert [m for m, _ in vk.network.calls] == ["wall.get"] * 3
        assert [w for w in waits if w >= 0.001] == [0.001, 0.002]

    def test_rate_limit_past_the_retries_raises(self, vk):
        from tsur.social.connectors import RateLimited

        vk.network.fail("rate", "wall.get", times=3)
        with pytest.raises(RateLimited):
            vk_connector(vk).fetch({})

    def test_expired_token_is_not_retried(self, vk):
        with pytest.raises(TokenExpired):
            vk_connector(vk, token="old").fetch({})
        assert len(vk.network.calls) == 1

    def test_deleted_post(self, vk):
        wall, first = feed_vk(vk.network)
        vk.network.delete(wall, first["id"])
        with pytest.raises(PostDeleted):
            vk_connector(vk).reply(Target("wall-101_1"), "Мусор вывезен")

    def test_network_error_retried_then_raised(self, vk):
        feed_vk(vk.network)
        vk.network.fail("network", "wall.get", times=1)
        assert len(vk_connector(vk).fetch({}).items) == 2
        vk.network.fail("network", "wall.get", times=3)
        with pytest.raises(NetworkDown):
            vk_connector(vk).fetch({})


def tg_connector(server, token="123:tg-token"):  # noqa: S107
    return TelegramConnector(base_url=server.url, token=token, communities=["-1001"])


class TestTelegram:
    def feed(self, fake):
        fake.add_chat(-1001, "Купчино чат", "kupchino_chat")
        fake.add_chat(-2002, "Чужой чат")
        user = {"id": 9, "first_name": "Мария", "last_name": "С.", "username": "masha"}
        first = fake.say(-1001, user, "Не горит фонарь у дома 5 по Славы", date=1_700_000_000)
        fake.say(-2002, user, "Этот чат бот не читает")
        return user, first

    def test_reads_updates_of_watched_chats_since_the_offset(self, telegram):
        user, first = self.feed(telegram.network)
        connector = tg_connector(telegram)

        batch = connector.fetch({})

        assert [(i.external_id, i.author_handle, i.link) for i in batch.items] == [
            ("tg-1001_100", "masha", "https://t.me/kupchino_chat/100")
        ]
        assert batch.cursor == {"offset": 3}
        assert connector.fetch(batch.cursor).items == []

    def test_reply_in_the_thread_and_a_reaction_to_it(self, telegram):
        user, first = self.feed(telegram.network)
        connector = tg_connector(telegram)
        cursor = connector.fetch({}).cursor

        reply_id = connector.reply(Target("tg-1001_100"), "Фонарь заменён 3 марта")
        telegram.network.say(-1001, user, "не сделано", reply_to=int(reply_id.rsplit("_", 1)[1]))
        items = connector.fetch(cursor).items

        assert reply_id == "tg-1001_102"
        sent = [p for m, p in telegram.network.calls if m == "sendMessage"][0]
        assert sent["reply_to_message_id"] == 100
        assert [(i.kind, i.reply_to, i.text) for i in items] == [("comment", "tg-1001_102", "не сделано")]

    def test_an_edit_is_read_again(self, telegram):
        user, first = self.feed(telegram.network)
        connector = tg_connector(telegram)
        cursor = connector.fetch({}).cursor
        telegram.network.edit(-1001, 100, "Не горит фонарь у дома 5 по Славы, третий день")
        (item,) = connector.fetch(cursor).items
        assert (item.external_id, item.text, item.edited_at is not None) == (
            "tg-1001_100",
            "Не горит фонарь у дома 5 по Славы, третий день",
            True,
        )

    def test_rate_limit_waits_what_telegram_asks(self, telegram):
        self.feed(telegram.network)
        telegram.network.fail("rate", "getUpdates")
        connector = tg_connector(telegram)
        waits = []
        connector.sleep = waits.append
        assert len(connector.fetch({}).items) == 1
        assert 1.0 in waits  # retry_after from the answer, over the 0.001 s back-off

    def test_token_deleted_and_network(self, telegram):
        self.feed(telegram.network)
        with pytest.raises(TokenExpired):
            tg_connector(telegram, token="0:revoked").fetch({})
        telegram.network.delete(-1001, 100)
        with pytest.raises(PostDeleted):
            tg_connector(telegram).reply(Target("tg-1001_100"), "Фонарь заменён")
        telegram.network.fail("network", "getUpdates", times=3)
        with pytest.raises(NetworkDown):
            tg_connector(telegram).fetch({})


def ok_connector(server, token="ok-token"):  # noqa: S107
    return OKConnector(base_url=server.url, token=token, communities=["555"])


class TestOK:
    def feed(self, fake):
        fake.add_group("555")
        fake.add_user("42", "Ольга Смирнова")
        return fake.topic("555", "42", "Яма на Бухарестской у остановки", created_ms=1_700_000_000_000)

    def test_reads_group_topics_after_the_anchor(self, ok):
        topic = self.feed(ok.network)
        connector = ok_connector(ok)
        batch = connector.fetch({})
        assert [(i.external_id, i.author_name, i.text) for i in batch.items] == [
            (f"ok555_{topic['id']}", "Ольга Смирнова", "Яма на Бухарестской у остановки")
        ]
        assert batch.cursor["groups"] == {"555": topic["id"]}
        assert connector.fetch(batch.cursor).items == []

    def test_reply_as_the_group_and_the_comments_after_it(self, ok):
        topic = self.feed(ok.network)
        connector = ok_connector(ok)
        target = Target(f"ok555_{topic['id']}")
        reply_id = connector.reply(target, "Яма заделана 4 марта")
        ok.network.comment(topic["id"], "42", "не сделано", reply_to=reply_id.rsplit("_c", 1)[1])
        comments = connector.fetch({}, follow=[target]).items[1:]
        assert [(c.kind, c.reply_to, c.text) for c in comments] == [
            ("comment", "", "Яма заделана 4 марта"),
            ("comment", reply_id, "не сделано"),
        ]

    def test_failures(self, ok):
        topic = self.feed(ok.network)
        from tsur.social.connectors import RateLimited

        ok.network.fail("rate", "mediatopic.getTopics", times=1)
        assert len(ok_connector(ok).fetch({}).items) == 1
        ok.network.fail("rate", "mediatopic.getTopics", times=3)
        with pytest.raises(RateLimited):
            ok_connector(ok).fetch({})
        with pytest.raises(TokenExpired):
            ok_connector(ok, token="stale").fetch({})
        ok.network.delete("555", topic["id"])
        with pytest.raises(PostDeleted):
            ok_connector(ok).reply(Target(f"ok555_{topic['id']}"), "Яма заделана")
        ok.network.fail("server", "*", times=3)
        with pytest.raises(NetworkDown):
            ok_connector(ok).fetch({})
