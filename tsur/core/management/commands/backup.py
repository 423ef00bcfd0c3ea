from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tsur.core import backup


class Command(BaseCommand):
    help = "Резервная копия: база данных и файлы в одном архиве с манифестом (docs/operations.md)."

    def add_arguments(self, parser):
        parser.add_argument(
            "archive", nargs="?", help="файл архива (по умолчанию tsur-backup-ГГГГММДД-ЧЧММСС.tar.gz)"
        )
        parser.add_argument("--database-url", help="другая база вместо DATABASE_URL")
        parser.add_argument("--media-root", help="другая папка файлов вместо MEDIA_ROOT")
        parser.add_argument(
            "--checksums", action="store_true", help="контрольная сумма строк каждой таблицы (дольше)"
        )

    def handle(self, *args, archive=None, database_url=None, media_root=None, checksums=False, **options):
        path = Path(archive or f"tsur-backup-{timezone.localtime():%Y%m%d-%H%M%S}.tar.gz")
        try:
            manifest = backup.create(path, url=database_url, media_root=media_root, checksums=checksums)
        except backup.BackupError as error:
            raise CommandError(str(error)) from error
        rows = sum(manifest["tables"].values())
        media = sum(1 for name in manifest["files"] if name.startswith("media/"))
        self.stdout.write(
            f"{path}: {manifest['engine']}, таблиц {len(manifest['tables'])}, строк {rows}, файлов {media}"
        )
