from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tsur.dispatch import simulator


class Command(BaseCommand):
    help = "Simulate automation controllers: publish realistic telemetry to MQTT or post it over HTTP."

    def add_arguments(self, parser):
        parser.add_argument("--devices", type=int, default=100, help="how many controllers (default 100)")
        parser.add_argument(
            "--rate", type=float, default=200, help="readings per second in all (default 200)"
        )
        parser.add_argument(
            "--duration", type=float, default=60, help="seconds to run, 0: until stopped (default 60)"
        )
        parser.add_argument(
            "--faults", action="store_true", help="controllers fail now and then; some messages are broken"
        )
        parser.add_argument(
            "--faults-per-minute",
            type=float,
            default=0,
            help="failures a minute in the fleet (default: 1%% an hour)",
        )
        parser.add_argument("--mqtt", default=settings.MQTT_URL, help="broker (default MQTT_URL)")
        parser.add_argument(
            "--http", default="", help="post to this platform instead, e.g. http://127.0.0.1:8000"
        )
        parser.add_argument("--prefix", default="sim", help="codes of the simulated objects (default sim)")
        parser.add_argument("--seed", type=int, default=1)

    def handle(
        self, *args, devices, rate, duration, faults, faults_per_minute, mqtt, http, prefix, seed, **options
    ):
        if devices < 1 or rate <= 0 or duration < 0:
            raise CommandError("--devices and --rate must be positive, --duration not negative")
        duration = duration or float("inf")
        self.stdout.write(f"Готовлю {devices} контроллеров…")
        controllers = simulator.fleet(devices, prefix=prefix, with_tokens=bool(http), seed=seed)
        sink = simulator.HttpSink(http) if http else simulator.MqttSink(mqtt)
        target = http or mqtt
        how_long = f"в течение {duration:g} с" if duration != float("inf") else "до остановки"
        self.stdout.write(f"Отправляю {rate:g} показаний/с на {target} {how_long}…")

        def report(totals):
            self.stdout.write(
                f"  {totals.seconds:5.0f} с: сообщений {totals.messages}, показаний {totals.readings}"
                f" ({totals.readings / max(totals.seconds, 1e-9):.0f}/с), испорчено {totals.bad_messages}"
            )

        totals = simulator.run(
            controllers,
            sink,
            rate,
            duration,
            faults=faults,
            faults_per_minute=faults_per_minute,
            seed=seed,
            report=report,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Готово: {totals.messages} сообщений, {totals.readings} исправных показаний за"
                f" {totals.seconds:.1f} с ({totals.readings / totals.seconds:.0f}/с), испорчено {totals.bad_messages}"
            )
        )
