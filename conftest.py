import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _no_text_model(settings):
    """Tests get the register's text model only when they ask for one (tsur/nlp/tests)."""
    settings.TSUR = {**settings.TSUR, "NLP_MODEL": ""}


@pytest.fixture(autouse=True)
def _fresh_building_index():
    """The street index and the reference data remembered for intake live for minutes in a process;
    each test starts from its own register."""
    from tsur.nlp import places, understanding

    places.reset_index()
    understanding.forget_models()


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Tokens, role assignments, the rubricator and the routing table remembered for seconds in a
    process: each test starts without (ids may be reused after a rolled-back test on SQLite)."""
    from tsur.appeals import routing, rubricator
    from tsur.core.api import authentication
    from tsur.core.models import remembered_assignments

    authentication.forget()
    remembered_assignments.forget()
    rubricator.remembered.forget()
    routing.forget()
