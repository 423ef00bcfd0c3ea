"""The MQTT consumer of controller telemetry.

Topic tree: `tsur/v1/<device code>/readings`, payload `{"readings": [...]}` as in the HTTP intake
(docs/dispatch.md); which device may publish where is the broker's ACL. Subscribed with QoS 1 over
MQTT 5 on a persistent session under a fixed client id, so the broker keeps what arrives while the
consumer is away.

The network thread only queues messages. A worker thread takes what has gathered (up to
`BATCH_WINDOW_S` or `BATCH_MESSAGES`), stores it in one transaction, applies the alarm rules and only
then acknowledges the messages, in the order they came: what the broker was told is accepted is
never lost. A bad message is refused and counted and never stops the batch; while the database is
down the batch waits and is retried, unacknowledged; a broker restart is met by reconnecting.
"""

import logging
import queue
import sys
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from django.conf import settings
from django.db import DatabaseError, InterfaceError, close_old_connections, connections
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from . import ingest
from .choices import RejectReason
from .models import Device

log = logging.getLogger(__name__)
TOPIC = "tsur/v1/+/readings"
DEVICE_CACHE_S = 60
BATCH_WINDOW_S = 0.05
BATCH_MESSAGES = 2000
SESSION_EXPIRY_S = 7 * 24 * 3600  # the broker keeps the subscription and the queue this long


class Consumer:
    def __init__(self, url: str | None = None, client_id: str = "tsur-dispatch", topic: str = TOPIC):
        parts = urlsplit(url or settings.MQTT_URL)
        self.host, self.port, self.topic = parts.hostname or "127.0.0.1", parts.port or 1883, topic
        self.client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=paho.MQTTv5,
            manual_ack=True,
        )
        if parts.username:
            self.client.username_pw_set(parts.username, parts.password)
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.connected = threading.Event()
        self.stored = 0
        self.intake = ingest.Intake(remember=True)
        self._inbox: queue.Queue = queue.Queue()
        self._running = threading.Event()
        self._worker: threading.Thread | None = None
        self._devices: dict[str, Device] = {}
        self._devices_at = -DEVICE_CACHE_S

    # -- paho callbacks (the network thread)

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.warning("MQTT broker refused the connection: %s", reason_code)
            return
        client.subscribe(self.topic, qos=1)
        self.connected.set()
        log.info("MQTT: subscribed to %s on %s:%s", self.topic, self.host, self.port)

    def _on_message(self, client, userdata, message):
        self._inbox.put((message.mid, message.qos, message.topic, message.payload))

    # -- the worker thread

    def _work(self) -> None:
        while self._running.is_set():
            try:
                batch = [self._inbox.get(timeout=0.5)]
            except queue.Empty:
                continue
            until = time.monotonic() + BATCH_WINDOW_S
            while len(batch) < BATCH_MESSAGES:
                try:
                    batch.append(self._inbox.get(timeout=max(0.0, until - time.monotonic())))
                except queue.Empty:
                    break
            self._handle_until_done(batch)
            for mid, qos, _topic, _payload in batch:
                self.client.ack(mid, qos)
        connections.close_all()

    def _handle_until_done(self, batch) -> None:
        delay = 0.5
        while True:
            try:
                self.handle_batch([(topic, payload) for _mid, _qos, topic, payload in batch])
                return
            except (DatabaseError, InterfaceError) as error:  # the database is away: wait for it
                log.warning("MQTT: database unavailable (%s); retrying %s messages", error, len(batch))
                connections.close_all()
                time.sleep(delay)
                delay = min(delay * 2, 10)
            except Exception:  # a bug met by some message: isolate it, keep the rest
                log.exception("MQTT: a batch of %s messages failed; handling them one by one", len(batch))
                close_old_connections()
                for _mid, _qos, topic, payload in batch:
                    try:
                        self.handle_batch([(topic, payload)])
                    except (DatabaseError, InterfaceError):
                        raise
                    except Exception:
                        log.exception("MQTT: message on %s refused", topic)
                        ingest.count_rejections(Counter({RejectReason.MALFORMED: 1}), "")
                return

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

    def _connect_properties(self) -> Properties:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        return properties

    def _start_worker(self) -> None:
        # The network thread mostly waits on its socket; when a message arrives it should get the
        # interpreter soon, not after the worker's default 5 ms slice.
        sys.setswitchinterval(0.0005)
        self._running.set()
        self._worker = threading.Thread(target=self._work, name="tsur-telemetry", daemon=True)
        self._worker.start()

    def start(self) -> None:
        """Connect and consume in background threads (tests, the benchmark)."""
        self._start_worker()
        self.client.connect_async(
            self.host, self.port, keepalive=30, clean_start=False, properties=self._connect_properties()
        )
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self._running.clear()
        if self._worker is not None:
            self._worker.join(timeout=10)

    def run_forever(self) -> None:
        self._start_worker()
        while True:
            try:
                self.client.connect(
                    self.host,
                    self.port,
                    keepalive=30,
                    clean_start=False,
                    properties=self._connect_properties(),
                )
                break
            except OSError as error:
                log.warning("MQTT broker %s:%s not reachable (%s); retrying", self.host, self.port, error)
                time.sleep(2)
        try:
            self.client.loop_forever(retry_first_connection=True)
        finally:
            self._running.clear()
