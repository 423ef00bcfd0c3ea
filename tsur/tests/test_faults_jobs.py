"""Faults of the job worker and its queue, for real: the worker (`tsur run_huey`) killed with SIGKILL in
the middle of a delivery, and Redis (the queue and the cache) killed and started empty while appeals
arrive through the REST API. Afterwards every appeal that got a 201 is in the register and every
notice reached its recipient once.

The worker, gunicorn and Redis are processes of the test's own, on the test's database (both
SQLite and PostgreSQL: the queue and the row locks behave differently on each)."""

import collections
import email
import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from tsur.appeals.models import Appeal
from tsur.notify.models import Delivery, DeliveryState

from .servers import BIN, Process, Receiver, Redis, free_port, listening, platform_env, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults]


def database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    host = f"{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
    return f"postgres://{settings['USER']}@{host}/{settings['NAME']}"


@pytest.fixture
def var_dir(tmp_path):
    (tmp_path / "mail").mkdir()
    return tmp_path


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.stop()


@pytest.fixture
def redis():
    server = Redis()
    server.start()
    yield server
    server.cleanup()


def tsur(*args: str, env: dict, log: Path) -> Process:
    return Process([str(BIN / "tsur"), *args], env, log)


def shell(code: str, env: dict, log: Path) -> None:
    """Run `code` in a platform process of its own (its deliveries queued through the real queue)."""
    process = tsur("shell", "-c", code, env=env, log=log).start()
    assert process.process.wait(timeout=60) == 0, process.output()


PLAN = """
from django.db import transaction
from tsur.notify import publish
from tsur.notify.models import Delivery
with transaction.atomic():
    publish.deliver(
        [Delivery(channel="webhook", address="{url}/hook", topic="appeal", subject=f"Вебхук {{n}}", text="т")
         for n in range({webhooks})]
        + [Delivery(channel="email", address=f"citizen{{n}}@example.org", topic="appeal", subject=f"Письмо {{n}}",
                    text="т") for n in range({emails})]
    )
"""


def mails(var_dir: Path) -> collections.Counter:
    """Subjects of the messages the file mail backend wrote, counted."""
    subjects = collections.Counter()
    for path in (var_dir / "mail").glob("*"):
        for raw in path.read_text().split("-" * 79):
            if raw.strip():
                message = email.message_from_string(raw.strip())
                subjects[str(email.header.make_header(email.header.decode_header(message["Subject"])))] += 1
    return subjects


def all_sent(count: int) -> bool:
    return Delivery.objects.filter(state=DeliveryState.SENT).count() == count


@pytest.mark.parametrize("queue", ["sqlite", "redis"])
def test_a_worker_killed_in_the_middle_of_a_delivery_loses_nothing_and_sends_nothing_twice(
    queue, var_dir, receiver, request
):
    """Given a worker sending deliveries, one of them held by a slow receiver; when the worker is
    killed with SIGKILL mid-send and started again; then every notice reaches its recipient once."""
    extra = {"TSUR_WEBHOOK_SECRET": "k", "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend"}
    if queue == "redis":
        extra["REDIS_URL"] = request.getfixturevalue("redis").url
    env = platform_env(database_url(), var_dir, **extra)
    receiver.hold.set()
    worker = tsur("run_huey", "--workers", "1", env=env, log=var_dir / "worker.log").start()
    try:
        shell(PLAN.format(url=receiver.url, webhooks=3, emails=3), env, var_dir / "shell.log")
        try:
            wait_until(lambda: receiver.arrived, what="the worker to start sending")
        except AssertionError as error:
            states = list(Delivery.objects.values_list("pk", "state", "attempts", "last_error"))
            raise AssertionError(f"{error}: {states}\n{worker.output()}") from None

        worker.kill()  # mid-send: the receiver holds the request, its answer will find nobody
        receiver.hold.clear()
        receiver.release.set()
        worker = tsur("run_huey", "--workers", "1", env=env, log=var_dir / "worker.log").start()

        wait_until(lambda: all_sent(6), timeout=30, what="every delivery sent after the restart")
    finally:
        worker.kill()
    ids = [str(pk) for pk in Delivery.objects.filter(channel="webhook").values_list("pk", flat=True)]
    assert collections.Counter(receiver.received) == {pk: 1 for pk in ids}, worker.output()
    assert mails(var_dir) == {f"Письмо {n}": 1 for n in range(3)}
    assert set(Delivery.objects.values_list("state", "last_error")) == {(DeliveryState.SENT, "")}


def post(url: str, body: dict, token: str = "") -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 - our own server
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


class Filer:
    """Files appeals anonymously through the portal, one after another, in a thread; remembers the
    number of each one answered 201 and the status of every answer."""

    def __init__(self, url: str):
        self.url, self.created, self.statuses = url, [], collections.Counter()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            status, body = post(
                self.url,
                {
                    "text": f"Не вывозят мусор во дворе, заявка {n}",
                    "address": "ул. Ленина, 1",
                    "personal_data_consent": True,
                },
            )
            self.statuses[status] += 1
            if status == 201:
                self.created.append(body["number"])

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(30)


def gunicorn(env: dict, log: Path, port: int) -> Process:
    args = [str(BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
    return Process([*args, "--log-level", "warning", "--graceful-timeout", "2"], env, log)


def test_redis_killed_and_started_empty_loses_no_appeal_and_no_notice(var_dir, redis):
    """Given the web and the job worker on Redis (queue, cache, throttling); when Redis is killed and
    started again empty while appeals arrive and notices are planned; then the portal keeps taking
    appeals, every 201 is in the register, and every notice is sent once by the sweep."""
    env = platform_env(
        database_url(),
        var_dir,
        REDIS_URL=redis.url,
        PUBLIC_INTAKE_RATE="100000/min",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
    )
    port = free_port()
    web = gunicorn(env, var_dir / "web.log", port).start()
    worker = tsur("run_huey", "--workers", "1", env=env, log=var_dir / "worker.log").start()
    try:
        wait_until(lambda: listening(port), what="gunicorn")
        with Filer(f"http://127.0.0.1:{port}/api/v1/appeals/") as filer:
            wait_until(lambda: len(filer.created) >= 5, what="appeals before the fault")
            shell(PLAN.format(url="", webhooks=0, emails=2), env, var_dir / "shell.log")
            wait_until(lambda: all_sent(2), what="the notices planned before the fault")

            redis.kill()
            before = len(filer.created)
            shell(
                PLAN.format(url="", webhooks=0, emails=2).replace("Письмо", "Без очереди"),
                env,
                var_dir / "shell.log",
            )
            wait_until(lambda: len(filer.created) >= before + 5, what="appeals filed while Redis is down")
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/open311/v2/requests.json", timeout=20
            ) as page:  # noqa: S310
                assert page.status == 200  # Open311 counts its rate limits in the cache too
            redis.start()
            after = len(filer.created)
            wait_until(lambda: len(filer.created) >= after + 5, what="appeals after Redis is back")
        # the periodic sweep (every minute) picks up what the queue lost; here it is run at once
        shell("from tsur.notify.tasks import retry_due; retry_due()", env, var_dir / "shell.log")
        wait_until(lambda: all_sent(4), timeout=30, what="the notices planned while Redis was down")
        assert worker.process.poll() is None, worker.output()
    finally:
        web.kill()
        worker.kill()
    assert set(filer.statuses) == {201}, (filer.statuses, web.output())
    assert set(filer.created) <= set(Appeal.objects.values_list("number", flat=True))
    assert mails(var_dir) == {"Письмо 0": 1, "Письмо 1": 1, "Без очереди 0": 1, "Без очереди 1": 1}
