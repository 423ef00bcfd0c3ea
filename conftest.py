import socket

import pytest

from tsur.analytics import live
from tsur.appeals import (
    deadlines,
    place_history,
    public,
    route_confidence,
    routing,
    rubricator,
    search,
    understanding,
)
from tsur.core import outbound
from tsur.core.api import authentication
from tsur.core.models import remembered_assignments
from tsur.nlp import understanding as text_model
from tsur.social import open_incidents
from tsur.web import options, queues


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _no_text_model(settings):
    """Tests get the register's text model only when they ask for one."""
    settings.TSUR = {**settings.TSUR, "NLP_MODEL": ""}


@pytest.fixture(autouse=True)
def _fresh_understanding():
    """The text model, the street index and the reference data its guesses are resolved to live for
    minutes in a process; each test starts from its own register (ids may be reused after a
    rolled-back test on SQLite)."""
    understanding.forget()
    text_model.forget_models()


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Tokens, role assignments, the rubricator, the routing table, the history of places, the
    routing calibration and the social merge index remembered in a process: each test starts
    without (ids may be reused after a rolled-back test on SQLite)."""
    authentication.forget()
    remembered_assignments.forget()
    rubricator.remembered.forget()
    routing.forget()
    place_history.forget()
    route_confidence.forget_calibration()
    deadlines.regulations.forget()
    options.forget()
    queues.forget_counts()
    public.forget_map()
    open_incidents.forget()
    search.HOUSES.forget()


@pytest.fixture(autouse=True)
def _wall_reader_closed():
    """The wall's second reading thread (tsur.analytics.live.side_by_side) keeps its connection like
    a request thread: closed after each test, so the test database can be dropped."""
    yield
    live.close_reader()


@pytest.fixture(autouse=True)
def dns(monkeypatch):
    """The resolver of links and webhooks (tsur.core.outbound) as a table the test fills:
    `dns["hooks.example.org"] = "127.0.0.1"`. Addresses written as numbers resolve as themselves;
    any other name is unknown, so no test waits for, or depends on, a real DNS server."""
    table: dict[str, str] = {}

    def resolve(host, port, *args, **kwargs):
        if host in table:
            family = socket.AF_INET6 if ":" in table[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (table[host], port or 0))]
        return socket.getaddrinfo(host, port, *args, flags=socket.AI_NUMERICHOST, **kwargs)

    monkeypatch.setattr(outbound, "getaddrinfo", resolve)
    return table
