"""The MQTT consumer of controller telemetry.

Topic tree: `tsur/v1/<device code>/readings`, payload `{"readings": [...]}` as in the HTTP intake
(docs/dispatch.md); which device may publish where is the broker's ACL. Subscribed with QoS 1 over
MQTT 5 on a persistent session under a fixed client id, so the broker keeps what arrives while the
consumer is away.

One thread does everything, in turn: it takes what has arrived for up to `BATCH_WINDOW_S` (or
`BATCH_MESSAGES` messages), stores it in one transaction, applies the alarm rules, and only then
acknowledges the messages, in the order they came: what the broker was told is accepted is never
lost. A bad message is refused and counted and never stops the batch; while the database is down
the batch waits and is retried, unacknowledged; when the broker goes away the consumer reconnects,
and the broker sends again whatever was not acknowledged.
"""

import logging
import threading
import time
from collections import Counter
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import InterfaceError, InternalError, OperationalError, close_old_connections, connections

from . import ingest, wire
from .choices import RejectReason
from .models import Device

log = logging.getLogger(__name__)
TOPIC = "tsur/v1/+/readings"
DEVICE_CACHE_S = 60
BATCH_WINDOW_S = 0.05
BATCH_MESSAGES = 2000
# The database is down, restarting, failing over or read-only: wait and retry, acknowledge nothing.
# (A value it refuses is a DataError and is isolated instead.)
UNAVAILABLE = (OperationalError, InterfaceError, InternalError)


class Consumer:
    def __init__(
        self,
        url: str | None = None,
        client_id: str = "tsur-dispatch",
        topic: str = TOPIC,
        keepalive: int = 30,
    ):
        parts = urlsplit(url or settings.MQTT_URL)
        tls = parts.scheme in ("mqtts", "ssl")
        self.host, self.port, self.topic = (
            parts.hostname or "127.0.0.1",
            parts.port or (8883 if tls else 1883),
            topic,
        )
        self.subscriber = wire.Subscriber(
            self.host,
            self.port,
            client_id,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
            keepalive=keepalive,
        )
        self.connected = threading.Event()
        self.stored = 0
        self.intake = ingest.Intake(remember=True)
        self._running = threading.Event()
        self._thread: threading.Thread | None = None
        self._devices: dict[str, Device] = {}
        self._devices_at = -DEVICE_CACHE_S
        self._was_connected = False

    # -- the loop

    def serve(self) -> None:
        """Consume until `stop()`: connect (again) with backoff, gather a batch, handle it, ack it."""
        self._running.set()
        delay, pending, since = 1.0, [], 0.0
        while self._running.is_set():
            if not self.subscriber.connected:
                pending = []  # unacknowledged: the broker sends them again
                try:
                    self.subscriber.connect(self.topic)
                except (OSError, wire.ConnectionLost) as error:
                    log.warning(
                        "MQTT broker %s:%s: %s; retrying in %.0f s", self.host, self.port, error, delay
                    )
                    self.subscriber.close()
                    time.sleep(delay)
                    delay = min(delay * 2, 10)
                    continue
                delay = 1.0
                if self._was_connected and not self.subscriber.session_present:
                    log.warning("MQTT: the broker lost our session; what it held for us while away is gone")
                self._was_connected = True
                self.connected.set()
                log.info("MQTT: subscribed to %s on %s:%s", self.topic, self.host, self.port)
            try:
                wait = max(0.0, BATCH_WINDOW_S - (time.monotonic() - since)) if pending else 0.5
                arrived = self.subscriber.receive(wait, limit=BATCH_MESSAGES - len(pending))
                if arrived and not pending:
                    since = time.monotonic()
                pending += arrived
                if pending and (len(pending) >= BATCH_MESSAGES or time.monotonic() - since >= BATCH_WINDOW_S):
                    self._handle_until_done(pending)
                    self.subscriber.acknowledge(pending)
                    pending = []
            except wire.ConnectionLost as error:
                log.warning("MQTT: connection lost (%s); reconnecting", error)
                self.connected.clear()
                self.subscriber.close()
            except Exception:  # never let the loop die: what was not acknowledged comes again
                log.exception("MQTT: the consumer loop failed; reconnecting")
                self.connected.clear()
                self.subscriber.close()
                close_old_connections()
                time.sleep(1)
        self.connected.clear()
        self.subscriber.close()
        connections.close_all()

    def _handle_until_done(self, messages: list[wire.Message]) -> None:
        """Store the batch, however long the database takes to come back; a message that breaks the
        batch for another reason is isolated, refused and counted, the others stored."""
        delay = 0.5
        while True:
            try:
                try:
                    self.handle_batch([(m.topic, m.payload) for m in messages])
                except UNAVAILABLE:
                    raise
                except Exception:  # a bug or a value the database refuses: isolate the message
                    log.exception(
                        "MQTT: a batch of %s messages failed; handling them one by one", len(messages)
                    )
                    close_old_connections()
                    for message in messages:
                        try:
                            self.handle_batch([(message.topic, message.payload)])
                        except UNAVAILABLE:
                            raise
                        except Exception:
                            log.exception("MQTT: message on %s refused", message.topic)
                            close_old_connections()
                            ingest.count_rejections(Counter({RejectReason.MALFORMED: 1}), "")
                return
            except UNAVAILABLE as error:  # the database is away (or read-only): wait for it
                log.warning("MQTT: database unavailable (%s); retrying %s messages", error, len(messages))
                connections.close_all()
                until = time.monotonic() + delay
                step = min(1.0, self.subscriber.keepalive / 4)  # a ping is due every half keep-alive
                while time.monotonic() < until:  # the broker must not think us gone meanwhile
                    self.subscriber.keep_alive()
                    time.sleep(min(step, max(0.0, until - time.monotonic())))
                delay = min(delay * 2, 10)

    # -- the work, callable without a broker

    def _device(self, code: str) -> Device | None:
        """The active device by its code: all of them are loaded in one query and refreshed every
        `DEVICE_CACHE_S`; a code not among them is looked up (a device added a moment ago)."""
        now = time.monotonic()
        if now - self._devices_at > DEVICE_CACHE_S:
            self._devices = {
                d.code: d for d in Device.objects.filter(is_active=True).select_related("object")
            }
            self._devices_at = now
        device = self._devices.get(code)
        if device is None:
            device = Device.objects.filter(code=code, is_active=True).select_related("object").first()
            if device is not None:  # unknown codes are not remembered: anybody may invent them
                self._devices[code] = device
        return device

    def handle_batch(self, messages: list[tuple[str, bytes]]) -> list[ingest.Outcome]:
        """Store what a list of (topic, payload) carries; returns the outcome per good message."""
        refused: Counter = Counter()
        batches = []
        for topic, payload in messages:
            parts = topic.split("/")
            code = parts[2][:64] if len(parts) == 4 else ""
            device = self._device(code) if code else None
            if device is None:
                # counted without the invented code, so a stranger cannot grow the table
                log.info("MQTT: readings from unknown device %r", code)
                refused[RejectReason.UNKNOWN_DEVICE, ""] += 1
                continue
            readings = ingest.decode(payload)
            if readings is None or len(readings) > ingest.MAX_BATCH:
                refused[RejectReason.MALFORMED, device.code] += 1
                continue
            batches.append((device, readings))
        outcomes = self.intake.accept_many(batches, refused=refused)
        self.stored += sum(outcome.accepted for outcome in outcomes)
        return outcomes

    def handle(self, topic: str, payload: bytes) -> ingest.Outcome | None:
        outcomes = self.handle_batch([(topic, payload)])
        return outcomes[0] if outcomes else None

    # -- running

    def start(self) -> None:
        """Consume in a background thread (tests)."""
        self._running.set()
        self._thread = threading.Thread(target=self.serve, name="tsur-telemetry", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._running.clear()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def run_forever(self) -> None:
        self.serve()
