"""Reading a region's export of appeals (CSV, optionally gzipped) for training and evaluation.

Column names are the caller's: every region names its text, rubric and executor columns in its own
way, so the commands take them as options and nothing here knows the Saint Petersburg file.
"""

import csv
import gzip
import hashlib
import io
import random
from dataclasses import dataclass
from pathlib import Path

from .example import Example

csv.field_size_limit(10_000_000)


class DatasetError(ValueError):
    pass


@dataclass
class Table:
    path: Path
    columns: list[str]
    rows: list[dict[str, str]]
    sha256: str

    def require(self, *columns: str) -> None:
        missing = [c for c in columns if c and c not in self.columns]
        if missing:
            raise DatasetError(
                f"В файле {self.path.name} нет колонок: {', '.join(missing)}. Есть: {', '.join(self.columns)}"
            )

    def examples(self, rows: list[dict], text_column: str, context_columns: list[str]) -> list[Example]:
        return [Example(r[text_column] or "", {c: r.get(c) or "" for c in context_columns}) for r in rows]


def read_table(path: Path) -> Table:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DatasetError(f"Не удалось прочитать {path}: {error.strerror}") from error
    digest = hashlib.sha256(raw).hexdigest()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise DatasetError(f"{path.name}: повреждённый gzip") from error
    if b"\x00" in raw[:100_000]:
        raise DatasetError(f"{path.name}: двоичный файл, ожидается CSV в UTF-8 (или CP1251)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1251", errors="strict") if _looks_cp1251(raw) else None
        if text is None:
            raise DatasetError(f"{path.name}: ожидается CSV в UTF-8 (или CP1251)") from None
    sample = text[:20_000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    if not reader.fieldnames:
        raise DatasetError(f"{path.name}: пустой файл")
    try:
        rows = [{k.strip(): (v or "").strip() for k, v in row.items() if k is not None} for row in reader]
    except csv.Error as error:
        raise DatasetError(f"{path.name}: не CSV ({error})") from error
    return Table(path, [c.strip() for c in reader.fieldnames], rows, digest)


def _looks_cp1251(raw: bytes) -> bool:
    try:
        raw.decode("cp1251")
    except UnicodeDecodeError:
        return False
    return True


def split(
    table: Table,
    split_column: str | None,
    train_value: str = "train",
    dev_value: str = "dev",
    dev_share: float = 0.1,
    seed: int = 0,
) -> tuple[list[dict], list[dict]]:
    """Rows to learn from and rows to calibrate on; test rows (any other split value) are never used.

    Without a split column, or without dev rows, a fixed random tenth of the training rows is
    held out for calibration and the choice of the threshold.
    """
    if split_column:
        table.require(split_column)
        train = [r for r in table.rows if r[split_column] == train_value]
        dev = [r for r in table.rows if r[split_column] == dev_value]
        if not train:
            raise DatasetError(f"Нет строк с {split_column}={train_value}")
        if dev:
            return train, dev
    else:
        train = list(table.rows)
    shuffled = train[:]
    random.Random(seed).shuffle(shuffled)
    held = max(1, int(len(shuffled) * dev_share)) if len(shuffled) >= 10 else 0
    return shuffled[held:], shuffled[:held]
