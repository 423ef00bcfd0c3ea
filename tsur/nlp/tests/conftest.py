import pytest
from django.core.management import call_command

from . import region


@pytest.fixture(scope="session")
def region_csv(tmp_path_factory):
    return region.write(tmp_path_factory.mktemp("region") / "appeals.csv")


def train(csv_path, out, *extra):
    call_command(
        "nlp_train",
        "--data", str(csv_path),
        "--text-col", "обращение",
        "--target", "рубрика",
        "--target", "исполнитель",
        "--context-col", "район",
        "--split-col", "выборка",
        "--bind", "topic=рубрика",
        "--bind", "organisation=исполнитель",
        "--bind-context", "район=district",
        "--out", str(out),
        *extra,
    )  # fmt: skip
    return out


@pytest.fixture(scope="session")
def region_model(region_csv, tmp_path_factory):
    """A model of the made-up region, trained once for the session; tests must not change it."""
    return train(region_csv, tmp_path_factory.mktemp("models") / "region")
