from django.conf import settings
from django.core.management.base import BaseCommand

from tsur.dispatch.mqtt import TOPIC, Consumer


class Command(BaseCommand):
    help = "Consume controller telemetry from the MQTT broker (MQTT_URL) until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--url", default=settings.MQTT_URL)
        parser.add_argument("--client-id", default="tsur-dispatch")
        parser.add_argument("--topic", default=TOPIC, help=f"topic filter (default {TOPIC})")

    def handle(self, *args, url: str, client_id: str, topic: str, **options):
        self.stdout.write(f"Телеметрия: {url}, тема {topic}")
        self.stdout.flush()
        Consumer(url, client_id, topic=topic).run_forever()
