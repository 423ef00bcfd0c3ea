import time

from django.core.management.base import BaseCommand

from tsur.analytics import facts


class Command(BaseCommand):
    help = (
        "Recompute every appeal's KPI facts from its timeline (after a bulk load that wrote events "
        "around the actions, or to check the facts against the timelines)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chunk", type=int, default=facts.CHUNK, help="appeals per statement")

    def handle(self, *args, chunk: int, **options):
        started = time.monotonic()
        shown = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - shown[0] >= 1 or done == total:
                shown[0] = now
                rate = done / max(now - started, 1e-6)
                self.stdout.write(f"\rФакты: {done:,} из {total:,} ({rate:,.0f} обращений/с)", ending="")
                self.stdout.flush()

        written = facts.rebuild(progress, chunk=chunk)
        self.stdout.write("")
        self.stdout.write(f"Пересчитано обращений: {written:,} за {time.monotonic() - started:.1f} с")
