"""`tsur social_simulate`: the local fakes of VK, Telegram and OK fed with a simulated city feed, read
by the region's sources, so incidents form and get answered in place (docs/social.md).

Each round posts the next posts of the feed into the fakes (complaints as informal rewrites of the
demo export's appeals, several residents and networks per problem; chatter, thanks, questions,
abuse), reads the sources, publishes the answers and posts the replies. With `--play` the command
also plays the people around it: the operator confirms the routing's top suggestion for incidents
waiting in moderation, the executor answers (now and then with an «отписка», which is not posted),
and some residents write «не сделано» under the reply, which reopens the incident.

The fakes' tokens are put into this process's environment under the names the sources read; the
job worker's own social job should be off meanwhile (TSUR_SOCIAL_PERIODIC=0, as ./scripts/up does).
"""

import itertools
import os
import random
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from tsur.appeals import actions as appeal_actions
from tsur.appeals.choices import Channel, EventKind, Status
from tsur.appeals.models import Appeal
from tsur.core.errors import DomainError
from tsur.core.models import Organisation
from tsur.social import actions, simulation
from tsur.social.choices import Network, ReplyState
from tsur.social.fakes import FakeOK, FakeServer, FakeTelegram, FakeVK
from tsur.social.models import Reply, Source, WatchList

TOKENS = {
    Network.VK: ("TSUR_SOCIAL_DEMO_VK_TOKEN", "demo-vk-token"),
    Network.TELEGRAM: ("TSUR_SOCIAL_DEMO_TELEGRAM_TOKEN", "100:demo-telegram-token"),
    Network.OK: ("TSUR_SOCIAL_DEMO_OK_TOKEN", "demo-ok-token"),
}
VK_GROUP, TG_CHAT, OK_GROUP = 70001, -1007001, "7001"
DONE = (
    "Проблема устранена {date}: работы выполнены, результат проверен на месте. Спасибо за сигнал.",
    "{date} выполнены работы по адресу из обращения, нарушение устранено.",
)
PLACEHOLDER = "Ваше обращение рассмотрено и направлено в уполномоченную организацию для принятия мер."
NOT_DONE = ("Не сделано, всё как было", "Ничего не сделали, враньё", "До сих пор не убрали, проверьте")


class Command(BaseCommand):
    help = "Смоделированная лента соцсетей через локальные имитации VK, Telegram и OK."

    def add_arguments(self, parser):
        parser.add_argument("--rounds", type=int, default=10, help="сколько раундов (0 — без конца)")
        parser.add_argument("--posts", type=int, default=20, help="публикаций за раунд")
        parser.add_argument("--interval", type=float, default=10, help="секунд между раундами")
        parser.add_argument("--play", action="store_true", help="играть за оператора, исполнителя и жителей")
        parser.add_argument(
            "--answer-after", type=float, default=30, help="исполнитель отвечает через N секунд"
        )
        parser.add_argument(
            "--not-done", type=float, default=0.2, help="доля ответов, под которыми пишут «не сделано»"
        )
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, rounds, posts, interval, play, answer_after, not_done, seed, **options):
        rnd = random.Random(seed)
        appeals = simulation.read_appeals(Path(settings.TSUR["DEMO_DATA"]), limit=3000, seed=seed)
        fakes = {
            Network.VK: FakeVK(TOKENS[Network.VK][1]),
            Network.TELEGRAM: FakeTelegram(TOKENS[Network.TELEGRAM][1]),
            Network.OK: FakeOK(TOKENS[Network.OK][1]),
        }
        servers = {network: FakeServer(fake).start() for network, fake in fakes.items()}
        try:
            self._sources(servers)
            wall = fakes[Network.VK].add_community(VK_GROUP, "Подслушано в городе", "podslushano_demo")
            fakes[Network.TELEGRAM].add_chat(TG_CHAT, "Городской чат", "city_chat_demo")
            fakes[Network.OK].add_group(OK_GROUP)
            feed = simulation.feed(appeals, posts=(rounds or 1000) * posts, complaint_share=0.15, seed=seed)
            stream = iter(feed)
            answered_at: dict[int, float] = {}
            for number in itertools.count(1) if rounds == 0 else range(1, rounds + 1):
                batch = list(itertools.islice(stream, posts))
                if not batch:
                    stream = iter(
                        simulation.feed(appeals, posts=1000 * posts, complaint_share=0.15, seed=seed + number)
                    )
                    batch = list(itertools.islice(stream, posts))
                for post in batch:
                    self._publish(fakes, wall, post)
                now = timezone.now()
                reports = actions.poll_all(at=now)
                if play:
                    self._operator(now, answer_after)
                    self._executor(now, answer_after, rnd, answered_at)
                stored = actions.publish(timezone.now())
                outcomes = actions.deliver(timezone.now())
                if play:
                    self._residents(fakes, wall, rnd, not_done)
                found = [r for r in reports.values() if r is not None]
                total = {
                    "new": sum(r.new for r in found),
                    "copies": sum(r.copies for r in found),
                    "incidents": sum(len(r.incidents) for r in found),
                    "attached": sum(r.attached for r in found),
                    "waiting": sum(r.waiting for r in found),
                    "reopened": sum(r.reopened for r in found),
                }
                self.stdout.write(
                    f"раунд {number}: найдено {total['new']}, копий {total['copies']}, новых инцидентов "
                    f"{total['incidents']}, присоединено {total['attached']}, ждут модератора {total['waiting']}, "
                    f"возобновлено {total['reopened']}; ответов {stored}, доставка {outcomes}"
                )
                self.stdout.flush()
                if rounds == 0 or number < rounds:
                    time.sleep(interval)
        finally:
            for server in servers.values():
                server.stop()

    def _sources(self, servers) -> None:
        watchlist, _ = WatchList.objects.get_or_create(
            name="Демонстрационный мониторинг",
            defaults={"keywords": ["мусор", "яма", "не вывозят"], "minus_words": ["продам", "отдам даром"]},
        )
        specs = {
            Network.VK: {
                "account": str(VK_GROUP),
                "communities": [str(-VK_GROUP)],
                "name": "ВК: Подслушано в городе",
            },
            Network.TELEGRAM: {
                "account": "tsur_bot",
                "communities": [str(TG_CHAT)],
                "name": "Telegram: городской чат",
            },
            Network.OK: {"account": OK_GROUP, "communities": [OK_GROUP], "name": "ОК: группа города"},
        }
        for network, server in servers.items():
            env, token = TOKENS[network]
            os.environ[env] = token  # the fakes' own tokens, for this process only
            spec = specs[network]
            Source.objects.update_or_create(
                watchlist=watchlist,
                network=network,
                name=spec["name"],
                defaults={
                    "account": spec["account"],
                    "communities": spec["communities"],
                    "base_url": server.url,
                    "token_env": env,
                    "requests_per_second": 20,
                    "cursor": {},  # fresh fakes: read from the start
                    "failures": 0,
                    "backoff_until": None,
                    "is_active": True,
                },
            )

    @staticmethod
    def _publish(fakes, wall, post) -> None:
        author = post.author
        if post.network == Network.VK:
            fakes[Network.VK].add_user(author, "Житель", f"№{author}", f"id{author}")
            fakes[Network.VK].post(wall, author, post.text)
        elif post.network == Network.TELEGRAM:
            fakes[Network.TELEGRAM].say(
                TG_CHAT, {"id": author, "first_name": "Житель", "username": f"user{author}"}, post.text
            )
        else:
            fakes[Network.OK].add_user(str(author), f"Житель №{author}")
            fakes[Network.OK].topic(OK_GROUP, str(author), post.text)

    @staticmethod
    def _operator(now, after) -> None:
        """The operator confirms the routing's best suggestion for incidents waiting in moderation."""
        waiting = Appeal.objects.filter(
            channel=Channel.SOCIAL,
            status=Status.MODERATION,
            registered_at__lte=now - timedelta(seconds=after),
        )
        for appeal in waiting[:20]:
            event = appeal.events.filter(kind=EventKind.SENT_TO_MODERATION).order_by("-pk").first()
            candidates = (event.data or {}).get("candidates") if event else None
            if not candidates:
                continue
            try:
                appeal_actions.assign(
                    appeal, None, organisation=Organisation.objects.get(pk=candidates[0]["id"])
                )
            except (DomainError, Organisation.DoesNotExist):
                continue

    @staticmethod
    def _executor(now, after, rnd, answered_at) -> None:
        """Executors take and answer incidents routed a while ago; one in ten answers is an «отписка»."""
        working = Appeal.objects.filter(
            channel=Channel.SOCIAL,
            status__in=[Status.ASSIGNED, Status.IN_WORK],
            updated_at__lte=now - timedelta(seconds=after),
        )
        for appeal in working[:30]:
            try:
                if appeal.status == Status.ASSIGNED:
                    appeal_actions.take(appeal, None)
                text = (
                    PLACEHOLDER
                    if rnd.random() < 0.1
                    else rnd.choice(DONE).format(date=f"{timezone.localdate():%d.%m.%Y}")
                )
                appeal_actions.answer(appeal, None, text=text)
                answered_at[appeal.pk] = time.time()
            except DomainError:
                continue

    @staticmethod
    def _residents(fakes, wall, rnd, share) -> None:
        """Some residents answer the official reply: «не сделано»."""
        fresh = Reply.objects.filter(
            state=ReplyState.POSTED, posted_at__gte=timezone.now() - timedelta(minutes=2)
        )
        for reply in fresh.select_related("post"):
            if rnd.random() >= share or reply.post.network != Network.VK:
                continue
            owner, number = reply.post.external_id.removeprefix("wall").split("_")[:2]
            comment_id = int(reply.external_id.rsplit("_c", 1)[1])
            fakes[Network.VK].comment(
                int(owner), int(number), rnd.randint(1, 50_000), rnd.choice(NOT_DONE), reply_to=comment_id
            )
