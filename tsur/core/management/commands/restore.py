from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tsur.core import backup


class Command(BaseCommand):
    help = "Восстановление из архива `tsur backup`: в пустую базу, или поверх данных с --force."

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument("--database-url", help="другая база вместо DATABASE_URL")
        parser.add_argument("--media-root", help="другая папка файлов вместо MEDIA_ROOT")
        parser.add_argument(
            "--force", action="store_true", help="заменить данные, которые уже есть в базе и папке файлов"
        )

    def handle(self, *args, archive, database_url=None, media_root=None, force=False, **options):
        try:
            manifest = backup.restore(Path(archive), url=database_url, media_root=media_root, force=force)
        except backup.BackupError as error:
            raise CommandError(str(error)) from error
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"Восстановлено из {archive} (снято {manifest['created_at']}): "
            f"таблиц {len(manifest['tables'])}, строк {rows}; число строк совпало с манифестом"
        )
