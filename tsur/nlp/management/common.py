"""What the text-model commands share (those of nlp and the register's `nlp_retrain`): where the
model is, how its thresholds read, options of the form key=value."""

import math
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from tsur.nlp.model import TextModel


def model_directory(value: str | None) -> Path:
    directory = Path(value or settings.TSUR["NLP_MODEL"])
    if not (directory / "manifest.json").exists():
        raise CommandError(
            f"Модель не найдена в {directory}. Обучите её: `tsur nlp_default` (по выгрузке демо-региона) "
            "или `tsur nlp_train --data ФАЙЛ.csv --text-col … --target … --out КАТАЛОГ`."
        )
    return directory


def load_model(value: str | None) -> TextModel:
    directory = model_directory(value)
    try:
        return TextModel.load(directory)
    except (OSError, ValueError, KeyError) as error:
        raise CommandError(f"Модель в {directory} не читается: {error}") from error


def pairs(values: list[str], option: str) -> dict[str, str]:
    result = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise CommandError(f"{option} ожидает вид ключ=значение, получено «{item}»")
        result[key.strip()] = value.strip()
    return result


def threshold_text(value) -> str:
    """A threshold as people read it; none (nothing trusted) when no cut reached the precision."""
    if value is None or not math.isfinite(value):
        return "нет (не доверять ничему)"
    return f"{value:.3f}"
