import hashlib
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tsur.nlp.features import Example
from tsur.nlp.model import TextModel

from . import region


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def evaluate(model, data, label, *extra) -> dict:
    return json.loads(
        run(
            "nlp_evaluate",
            "--model",
            str(model),
            "--data",
            str(data),
            "--text-col",
            "обращение",
            "--label-col",
            label,
            "--split-col",
            "выборка",
            "--split",
            "test",
            "--json",
            *extra,
        )  # fmt: skip
    )


def test_foreign_region_trains_and_evaluates_with_the_commands_alone(region_model, region_csv):
    figures = evaluate(region_model, region_csv, "рубрика")

    assert figures["n"] == 60
    assert figures["accuracy"] >= 0.95
    assert figures["macro_f1"] >= 0.95
    assert figures["top3_accuracy"] >= figures["accuracy"]
    assert {c["class"] for c in figures["per_class"]} == set(region.CLASSES)
    assert sum(c["support"] for c in figures["per_class"]) == 60
    assert 0 < figures["coverage"] <= 1
    assert figures["accuracy_above_threshold"] >= figures["accuracy"] - 0.01


def test_executor_depends_on_the_place_not_only_the_text(region_model):
    model = TextModel.load(region_model)
    text = "Батарея холодно отопление не работает, ул. Мира, д. 5"
    north, south = model.predict([Example(text, {"район": "Северный"}), Example(text, {"район": "Южный"})])

    assert north["исполнитель"][0].value == "Теплосеть Северного района"
    assert south["исполнитель"][0].value == "Теплосеть Южного района"
    assert north["рубрика"][0].value == south["рубрика"][0].value == "Отопление"
    assert 0.5 < north["исполнитель"][0].probability <= 1.0


def test_the_model_directory_says_what_it_was_trained_on(region_model, region_csv):
    manifest = json.loads((region_model / "manifest.json").read_text())

    assert manifest["data"]["sha256"] == hashlib.sha256(region_csv.read_bytes()).hexdigest()
    assert manifest["rows"] == {"train": 420, "dev": 120}
    assert manifest["context_columns"] == ["район"]
    assert manifest["bindings"] == {"topic": "рубрика", "organisation": "исполнитель"}
    assert manifest["code_version"].startswith("tsur ")
    assert manifest["trained_at"]
    target = manifest["targets"]["рубрика"]
    assert target["classes"] == 5
    assert 0 < target["threshold"] <= 1
    assert target["dev"]["accuracy_above_threshold"] >= 0.95


def test_evaluate_prints_a_table_and_the_reference(region_model, region_csv):
    out = run(
        "nlp_evaluate", "--model", str(region_model), "--data", str(region_csv), "--text-col", "обращение",
        "--label-col", "рубрика", "--split-col", "выборка", "--reference",
    )  # fmt: skip
    assert "macro-F1" in out and "top-3 accuracy" in out
    assert "эталон TF-IDF + LR" in out
    assert "Детские площадки" in out


def test_predict_prints_ranked_guesses(region_model):
    out = run("nlp_predict", "Не горит фонарь, темно", "--model", str(region_model), "--top", "2")
    lines = out.splitlines()
    assert lines[0].startswith("рубрика")
    assert lines[1].endswith("Освещение")
    assert float(lines[1].split()[-2]) > float(lines[2].split()[-2])


def test_gzipped_comma_file_trains_too(tmp_path):
    packed = region.write(tmp_path / "r.csv.gz", n=200, compress=True, delimiter=",")
    assert packed.read_bytes()[:2] == b"\x1f\x8b"
    region.train(packed, tmp_path / "m", "--no-embeddings")
    assert TextModel.load(tmp_path / "m").manifest["embeddings"] is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x1f\x8b\x08broken", "повреждённый gzip"),
        (b"", "пустой файл"),
        ("номер;текст\n1;мусор\n".encode(), "нет колонок: обращение"),
        (b"\xff\xfe\x00\x00bad", "UTF-8"),
    ],
)
def test_broken_files_are_refused_clearly(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        region.train(path, tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_one_class_is_nothing_to_learn(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text(
        "обращение;рубрика;исполнитель;район;выборка\n"
        + "".join(f"мусор {i};Мусор;Спецавтобаза;Северный;train\n" for i in range(20))
    )
    with pytest.raises(CommandError, match="меньше двух разных значений"):
        region.train(path, tmp_path / "m")


def test_unknown_target_and_missing_model_are_refused(region_model, region_csv, tmp_path):
    with pytest.raises(CommandError, match="нет цели «номер»"):
        evaluate(region_model, region_csv, "номер")
    with pytest.raises(CommandError, match="Модель не найдена"):
        run("nlp_predict", "мусор", "--model", str(tmp_path))


def test_header_names_with_spaces_are_found(tmp_path):
    path = region.write(tmp_path / "r.csv", n=200)
    lines = path.read_text().splitlines()
    lines[0] = "; ".join(f" {c} " for c in lines[0].split(";"))
    path.write_text("\n".join(lines) + "\n")
    region.train(path, tmp_path / "m", "--no-embeddings")
    assert TextModel.load(tmp_path / "m").targets == ["рубрика", "исполнитель"]
