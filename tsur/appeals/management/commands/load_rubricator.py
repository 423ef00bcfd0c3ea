from pathlib import Path

from django.core.management.base import BaseCommand

from tsur.appeals import rubricator


class Command(BaseCommand):
    help = "Load (or update) the rubricator of thematic blocks and topics from a JSON file."

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=rubricator.DEFAULT)

    def handle(self, *args, file: Path, **options):
        blocks, topics = rubricator.load(file)
        self.stdout.write(f"Рубрикатор: блоков {blocks}, тем {topics}")
