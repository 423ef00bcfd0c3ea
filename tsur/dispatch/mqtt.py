"""The MQTT consumer of controller telemetry.

Topic tree: `tsur/v1/<device code>/readings`, payload `{"readings": [...]}` as in the HTTP intake
(docs/dispatch.md); which device may publish where is the broker's ACL. Subscribed with QoS 1 on a
persistent session under a fixed client id, so the broker keeps what arrives while the consumer is
away; a message is acknowledged only after its readings are stored, so what the broker was told
is accepted is never lost. A bad message is refused and counted and never stops the loop; a broker
restart is met by reconnecting with backoff.
"""

import logging
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from django.conf import settings
from django.db import close_old_connections, connections

from . import ingest
from .choices import RejectReason
from .models import Device

log = logging.getLogger(__name__)
TOPIC = "tsur/v1/+/readings"
DEVICE_CACHE_S = 60


class Consumer:
    def __init__(self, url: str | None = None, client_id: str = "tsur-dispatch"):
        parts = urlsplit(url or settings.MQTT_URL)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 1883
        self.client = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False, manual_ack=True
        )
        if parts.username:
            self.client.username_pw_set(parts.username, parts.password)
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self.connected = threading.Event()
        self.stored = 0
        self._devices: dict[str, tuple[float, Device | None]] = {}

    # -- paho callbacks (the network thread)

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.warning("MQTT broker refused the connection: %s", reason_code)
            return
        client.subscribe(TOPIC, qos=1)
        self.connected.set()
        log.info("MQTT: subscribed to %s on %s:%s", TOPIC, self.host, self.port)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        # The network thread holds its own database connection: give it back while away.
        connections.close_all()

    def _on_message(self, client, userdata, message):
        try:
            self.handle(message.topic, message.payload)
        except Exception:  # a message must never stop the consumer; it stays unacknowledged
            log.exception("MQTT: message on %s could not be handled", message.topic)
            close_old_connections()
            return
        client.ack(message.mid, message.qos)

    # -- the work, callable without a broker

    def _device(self, code: str) -> Device | None:
        now = time.monotonic()
        cached = self._devices.get(code)
        if cached and now - cached[0] < DEVICE_CACHE_S:
            return cached[1]
        device = Device.objects.filter(code=code, is_active=True).first()
        if device is not None:  # unknown codes are not remembered: anybody may invent them
            self._devices[code] = (now, device)
        return device

    def handle(self, topic: str, payload: bytes) -> ingest.Outcome | None:
        parts = topic.split("/")
        code = parts[2][:64] if len(parts) == 4 else ""
        device = self._device(code) if code else None
        if device is None:
            # counted without the invented code, so a stranger cannot grow the table
            log.info("MQTT: readings from unknown device %r", code)
            ingest.count_rejections(Counter({RejectReason.UNKNOWN_DEVICE: 1}), "")
            return None
        readings = ingest.decode(payload)
        if readings is None or len(readings) > ingest.MAX_BATCH:
            ingest.count_rejections(Counter({RejectReason.MALFORMED: 1}), device.code)
            return None
        outcome = ingest.accept(device, readings)
        self.stored += outcome.accepted
        return outcome

    # -- running

    def start(self) -> None:
        """Connect and consume in a background thread (tests, the simulator's benchmark)."""
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def run_forever(self) -> None:
        while True:
            try:
                self.client.connect(self.host, self.port, keepalive=30)
                break
            except OSError as error:
                log.warning("MQTT broker %s:%s not reachable (%s); retrying", self.host, self.port, error)
                time.sleep(2)
        self.client.loop_forever(retry_first_connection=True)
