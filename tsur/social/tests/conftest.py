import pytest

from tsur.social import triage
from tsur.social.fakes import FakeOK, FakeServer, FakeTelegram, FakeVK


@pytest.fixture(autouse=True)
def quick_retries(settings):
    """Back-off in milliseconds, and no triage model unless a test trains one."""
    settings.SOCIAL = {
        **settings.SOCIAL,
        "BACKOFF_SECONDS": 0.001,
        "RETRIES": 2,
        "TIMEOUT_SECONDS": 5,
        "TRIAGE_MODEL": "",
    }
    triage.forget_model()
    yield
    triage.forget_model()


@pytest.fixture
def vk():
    with FakeServer(FakeVK()) as server:
        yield server


@pytest.fixture
def telegram():
    with FakeServer(FakeTelegram()) as server:
        yield server


@pytest.fixture
def ok():
    with FakeServer(FakeOK()) as server:
        yield server
