"""The default model of the demo region: trained by `tsur nlp_default`, understood by the register."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from tsur.appeals import actions
from tsur.appeals.choices import Channel, Status
from tsur.core.choices import PlaceKind
from tsur.core.models import Territory
from tsur.nlp import understanding
from tsur.nlp.model import TextModel

from .rows import write_export

pytestmark = pytest.mark.django_db


def test_default_model_binds_the_exports_columns_to_the_register(tmp_path, settings):
    export = write_export(tmp_path / "export.csv.gz")
    call_command(
        "load_demo", "--file", str(export), "--all", "--users-file", str(tmp_path / "u"), verbosity=0
    )
    model_dir = tmp_path / "model"

    call_command(
        "nlp_default", "--file", str(export), "--out", str(model_dir), stdout=StringIO(), stderr=StringIO()
    )

    manifest = TextModel.load(model_dir).manifest
    assert set(manifest["targets"]) == {"label", "subcategory", "executor_org"}
    assert manifest["context_bindings"] == {"city_object": "place_kind", "district": "district"}
    # the register meets the export: territory «Невский район» is the export's «Невский», the yard its «Двор»
    settings.TSUR = {**settings.TSUR, "NLP_MODEL": str(model_dir)}
    understanding.forget_models()
    nevsky = Territory.objects.get(name="муниципальный округ Рыбацкое")
    appeal, _ = actions.register(
        channel=Channel.PORTAL, text="Проблема во дворе", territory=nevsky, place_kind=PlaceKind.YARD
    )
    assert appeal.topic.name == "Мусор на внутридворовой территории"
    assert appeal.topic.category == "Благоустройство"
    assert appeal.status == Status.ASSIGNED
    assert appeal.organisation.name == "СПб ГКУ ЖА Невского района"
    understanding.forget_models()

    out = StringIO()
    call_command("nlp_default", "--file", str(export), "--out", str(model_dir), "--if-missing", stdout=out)
    assert "уже есть" in out.getvalue()

    # a model of an older format is trained again, not kept unreadable
    old = json.loads((model_dir / "manifest.json").read_text())
    (model_dir / "manifest.json").write_text(json.dumps({**old, "format": 1}))
    out = StringIO()
    call_command(
        "nlp_default",
        "--file",
        str(export),
        "--out",
        str(model_dir),
        "--if-missing",
        stdout=out,
        stderr=StringIO(),
    )
    assert "Обучаю" in out.getvalue()
    assert TextModel.load(model_dir).manifest["format"] == 2


def test_without_the_export_there_is_no_model_and_a_hint(tmp_path):
    out = StringIO()
    call_command(
        "nlp_default", "--file", str(tmp_path / "absent.csv"), "--out", str(tmp_path / "m"), stdout=out
    )
    assert "не найдена" in out.getvalue()
    assert not (tmp_path / "m").exists()
