import pytest

from . import region


@pytest.fixture(scope="session")
def region_csv(tmp_path_factory):
    return region.write(tmp_path_factory.mktemp("region") / "appeals.csv")


@pytest.fixture(scope="session")
def region_model(region_csv, tmp_path_factory):
    """A model of the made-up region, trained once for the session; tests must not change it."""
    return region.train(region_csv, tmp_path_factory.mktemp("models") / "region")
