"""PostgreSQL restarted while appeals arrive through the REST API, for real: a cluster of the test's
own (a copy of the test database), gunicorn on it, residents filing through the portal and an
agency's system filing with its own ids (and sending again whatever got no answer). Every appeal
that got a 201 is in the register afterwards, a system's resent filing is registered once, and the
platform takes appeals again as soon as the database is back.

The database is the test's own, built by `tsur migrate` in its own cluster, so the test runs the
same in the suite's SQLite and PostgreSQL passes."""

import collections
import threading
import time

import psycopg
import pytest

from .servers import Postgres, free_port, listening, platform_env, wait_until
from .test_faults_jobs import gunicorn, post, shell, tsur

pytestmark = pytest.mark.faults
# an agency's system with a token of its own, made in the platform's database by a process of its own
AGENCY = """
from rest_framework.authtoken.models import Token
from tsur.core.choices import Role
from tsur.core.models import RoleAssignment, User
user = User.objects.create(username="agency")
RoleAssignment.objects.create(user=user, role=Role.SYSTEM)
Token.objects.create(user=user, key="{token}")
"""
TOKEN = "f" * 40


@pytest.fixture
def postgres():
    server = Postgres()
    server.start()
    yield server
    server.cleanup()


class Filers:
    """Two clients in threads: the portal (anonymous, no id) and a system (token, its own ids, each
    sent again after an error or no answer until it gets 201 or 200)."""

    def __init__(self, url: str, token: str):
        self.url, self.token = url, token
        self.created: list[str] = []  # numbers answered 201
        self.system: dict[str, str] = {}  # external id → number it was finally answered with
        self.statuses = collections.Counter()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.portal), threading.Thread(target=self.agency)]

    def _post(self, body, token=""):
        try:
            status, answer = post(self.url, body, token)
        except OSError:  # connection refused or reset: no answer
            status, answer = 0, {}
        self.statuses[status] += 1
        if status == 201:
            self.created.append(answer["number"])
        return status, answer

    def portal(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            self._post(
                {
                    "text": f"Яма на дороге у дома, обращение {n}",
                    "address": "ул. Садовая, 5",
                    "personal_data_consent": True,
                }
            )

    def agency(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            body = {"channel": "agency", "external_id": f"ext-{n}", "text": f"Обращение из системы № {n}"}
            while True:
                status, answer = self._post(body, self.token)
                if status in (200, 201):
                    self.system[body["external_id"]] = answer["number"]
                    break
                time.sleep(0.1)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(60)


def test_a_database_restart_loses_no_appeal_that_got_a_201(postgres, tmp_path):
    url = postgres.create("tsur_faults")
    env = platform_env(url, tmp_path, PUBLIC_INTAKE_RATE="100000/min", DB_CONN_MAX_AGE="60")
    migrate = tsur("migrate", "--no-input", "-v0", env=env, log=tmp_path / "migrate.log").start()
    assert migrate.process.wait(timeout=300) == 0, migrate.output()
    shell(AGENCY.format(token=TOKEN), env, tmp_path / "agency.log")
    port = free_port()
    web = gunicorn(env, tmp_path / "web.log", port).start()
    try:
        wait_until(lambda: listening(port), what="gunicorn")
        with Filers(f"http://127.0.0.1:{port}/api/v1/appeals/", TOKEN) as filers:
            wait_until(lambda: len(filers.created) >= 10, what="appeals before the restart")
            postgres.stop("fast")  # every connection cut, as in a crash or a failover
            time.sleep(1.5)
            during = collections.Counter(filers.statuses)
            postgres.start()
            after = len(filers.created)
            wait_until(
                lambda: len(filers.created) >= after + 10, timeout=30, what="appeals after the restart"
            )
    finally:
        web.kill()
    with psycopg.connect(url) as conn:
        stored = {number for (number,) in conn.execute("SELECT number FROM appeals_appeal")}
        resent = conn.execute(
            "SELECT count(*), count(DISTINCT intake_key) FROM appeals_appeal WHERE channel = 'agency'"
        ).fetchone()
    assert set(filers.created) <= stored, web.output()
    assert set(filers.system.values()) <= stored
    assert resent[0] == resent[1] == len(filers.system)  # a filing sent again is registered once
    refused = {status for status in filers.statuses if status not in (200, 201)}
    assert refused <= {0, 503}, (during, filers.statuses, web.output())  # unavailable, never a 500
