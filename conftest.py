import pytest

from tsur.appeals import routing, rubricator, understanding
from tsur.core.api import authentication
from tsur.core.models import remembered_assignments
from tsur.nlp import understanding as text_model


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
    """Tokens, role assignments, the rubricator and the routing table remembered for seconds in a
    process: each test starts without (ids may be reused after a rolled-back test on SQLite)."""
    authentication.forget()
    remembered_assignments.forget()
    rubricator.remembered.forget()
    routing.forget()
