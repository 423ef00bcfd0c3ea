from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tsur.core.importers import IMPORTERS, ImportFailed


class Command(BaseCommand):
    help = "Import reference data from CSV: all rows or none (see tsur/core/importers.py for the columns)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(IMPORTERS))
        parser.add_argument("file", type=Path)

    def handle(self, *args, kind: str, file: Path, **options):
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Не удалось прочитать {file}: {error}") from error
        try:
            count = IMPORTERS[kind](text)
        except ImportFailed as error:
            raise CommandError(f"Импорт отменён, ничего не изменено: {error.message}") from error
        self.stdout.write(f"Импортировано строк: {count}")
