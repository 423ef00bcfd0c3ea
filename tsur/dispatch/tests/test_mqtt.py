"""The MQTT consumer against a real Mosquitto broker (its own instance, so the test can restart it)."""

import json
import os
import shutil
import socket
import subprocess
import time
from datetime import timedelta

import paho.mqtt.client as paho
import pytest
from django.db import OperationalError
from django.utils import timezone

from tsur.appeals import actions
from tsur.appeals.tests.factories import TopicFactory
from tsur.core.tests.factories import BuildingFactory, OrganisationFactory
from tsur.dispatch import reference, simulator
from tsur.dispatch.choices import ObjectKind
from tsur.dispatch.models import Alarm, Device, EngineeringObject, Outage, Reading, Rejection
from tsur.dispatch.mqtt import TOPIC, Consumer
from tsur.dispatch.tests.factories import DeviceFactory, EngineeringObjectFactory, MetricFactory
from tsur.dispatch.tests.payloads import payload

pytestmark = pytest.mark.django_db(transaction=True)
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    def __init__(self, directory, users: dict[str, str] | None = None):
        self.port = free_port()
        self.config = directory / "mosquitto.conf"
        access = "allow_anonymous true\n"
        if users:
            passwords = directory / "passwords"
            passwords.write_text("".join(f"{user}:{password}\n" for user, password in users.items()))
            subprocess.run(["mosquitto_passwd", "-U", str(passwords)], check=True)  # noqa: S603, S607
            access = f"allow_anonymous false\npassword_file {passwords}\n"
        if os.geteuid() == 0:  # as root mosquitto would drop to user mosquitto: our files are not its
            access += "user root\n"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n{access}persistence true\npersistence_location {directory}/\n"
        )
        self.process = None

    def start(self):
        self.process = subprocess.Popen(  # noqa: S603 - the broker binary and our own config
            [MOSQUITTO, "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_until(self._listening, what=f"mosquitto on port {self.port}")

    def _listening(self) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


def wait_until(condition, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def broker(tmp_path):
    if not shutil.which(MOSQUITTO) and not shutil.os.path.exists(MOSQUITTO):
        pytest.fail("mosquitto is not installed: apt-get install mosquitto")
    running = Broker(tmp_path)
    running.start()
    yield running
    if running.process.poll() is None:
        running.stop()


@pytest.fixture
def plant():
    plant = EngineeringObjectFactory(code="kotelnaya-3", name="Котельная №3")
    MetricFactory(code="t_supply")
    DeviceFactory(code="plc-3-1", object=plant)
    return plant


@pytest.fixture
def consumer(broker):
    running = Consumer(f"mqtt://127.0.0.1:{broker.port}", client_id=f"tsur-test-{broker.port}")
    running.start()
    wait_until(running.connected.is_set, what="the consumer to subscribe")
    yield running
    running.stop()


def publisher(port: int, inflight: int = 20) -> paho.Client:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"plc-{port}-{time.monotonic_ns()}")
    client.max_inflight_messages_set(inflight)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def readings(*values, minutes_ago=1):
    at = (timezone.now() - timedelta(minutes=minutes_ago)).isoformat()
    return json.dumps(
        {"readings": [{"metric": "t_supply", "value": v, "unit": "°C", "at": at} for v in values]}
    )


def test_readings_published_by_a_controller_are_stored(plant, broker, consumer):
    sender = publisher(broker.port)
    sender.publish("tsur/v1/plc-3-1/readings", payload("good_batch"), qos=1).wait_for_publish(5)

    wait_until(lambda: Reading.objects.count() == 3, what="three readings")
    assert sorted(Reading.objects.values_list("value", flat=True)) == [70.0, 70.5, 71.0]
    sender.loop_stop()


def test_bad_messages_are_counted_and_never_block_good_ones(plant, broker, consumer):
    sender = publisher(broker.port)
    for topic, body in [
        ("tsur/v1/plc-unknown/readings", payload("good_batch")),  # unknown device
        ("tsur/v1/plc-3-1/readings", payload("not_json")),  # malformed
        ("tsur/v1/plc-3-1/readings", b"[" * 100_000),  # nested past the recursion limit
        ("tsur/v1/plc-3-1/readings", payload("readings_not_a_list")),  # malformed
        ("tsur/v1/plc-3-1/readings", payload("one_impossible_one_good")),
        ("tsur/v1/plc-3-1/readings", readings(73.0)),  # good
    ]:
        sender.publish(topic, body, qos=1).wait_for_publish(5)

    wait_until(lambda: Reading.objects.count() == 2, what="the two good readings")
    wait_until(lambda: sum(Rejection.objects.values_list("count", flat=True)) == 5, what="five refusals")
    assert {(r.reason, r.device_code): r.count for r in Rejection.objects.all()} == {
        ("unknown_device", ""): 1,
        ("malformed", "plc-3-1"): 3,
        ("out_of_range", "plc-3-1"): 1,
    }
    sender.loop_stop()


def test_a_broker_restart_does_not_stop_the_consumer_nor_lose_what_was_accepted(plant, broker, consumer):
    sender = publisher(broker.port)
    sender.publish("tsur/v1/plc-3-1/readings", readings(60.0, 61.0), qos=1).wait_for_publish(5)
    wait_until(lambda: Reading.objects.count() == 2, what="readings before the restart")
    sender.loop_stop()
    sender.disconnect()

    broker.stop()
    wait_until(lambda: not consumer.connected.is_set(), what="the consumer to notice")
    broker.start()
    wait_until(consumer.connected.is_set, timeout=30, what="the consumer to reconnect and subscribe again")

    again = publisher(broker.port)
    again.publish("tsur/v1/plc-3-1/readings", readings(62.0), qos=1).wait_for_publish(5)
    wait_until(lambda: Reading.objects.count() == 3, what="readings after the restart")
    assert sorted(Reading.objects.values_list("value", flat=True)) == [60.0, 61.0, 62.0]
    again.loop_stop()


def test_what_arrives_while_the_consumer_is_away_is_delivered_when_it_returns(plant, broker):
    first = Consumer(f"mqtt://127.0.0.1:{broker.port}", client_id="tsur-away")
    first.start()
    wait_until(first.connected.is_set, what="the first subscription")
    first.stop()

    sender = publisher(broker.port)
    sender.publish("tsur/v1/plc-3-1/readings", readings(55.0), qos=1).wait_for_publish(5)
    sender.loop_stop()

    back = Consumer(f"mqtt://127.0.0.1:{broker.port}", client_id="tsur-away")
    back.start()
    wait_until(lambda: Reading.objects.count() == 1, what="the reading kept by the broker")
    back.stop()


def test_an_idle_consumer_keeps_its_connection_alive(plant, broker):
    idle = Consumer(f"mqtt://127.0.0.1:{broker.port}", client_id="tsur-idle", keepalive=1)
    idle.start()
    wait_until(idle.connected.is_set, what="the subscription")
    time.sleep(4)  # past the broker's 1.5 × keep-alive: only pings kept it open
    assert idle.connected.is_set()
    sender = publisher(broker.port)
    sender.publish("tsur/v1/plc-3-1/readings", readings(58.0), qos=1).wait_for_publish(5)
    wait_until(lambda: Reading.objects.count() == 1, what="a reading after the idle time")
    sender.loop_stop()
    idle.stop()


def test_a_broker_with_passwords_admits_the_consumer_with_its_own(plant, tmp_path):
    guarded = Broker(tmp_path, users={"tsur": "s3cret", "plc-3-1": "plc-pass"})
    guarded.start()
    try:
        wrong = Consumer(f"mqtt://tsur:wrong@127.0.0.1:{guarded.port}", client_id="tsur-wrong")
        with pytest.raises(Exception, match="refused"):
            wrong.subscriber.connect(TOPIC)
        right = Consumer(f"mqtt://tsur:s3cret@127.0.0.1:{guarded.port}", client_id="tsur-right")
        right.start()
        wait_until(right.connected.is_set, what="the subscription with the right password")
        sender = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="plc-3-1")
        sender.username_pw_set("plc-3-1", "plc-pass")
        sender.connect("127.0.0.1", guarded.port)
        sender.loop_start()
        sender.publish("tsur/v1/plc-3-1/readings", readings(61.5), qos=1).wait_for_publish(5)
        wait_until(lambda: Reading.objects.count() == 1, what="the reading through the guarded broker")
        sender.loop_stop()
        right.stop()
    finally:
        guarded.stop()


def test_a_burst_is_stored_once_in_batches_and_qos0_too(plant, broker, consumer):
    sender = publisher(broker.port, inflight=1000)
    for n in range(2500):
        sender.publish("tsur/v1/plc-3-1/readings", readings(40 + n % 50, minutes_ago=1 + n / 1000), qos=1)
    sender.publish("tsur/v1/plc-3-1/readings", readings(99.0), qos=0).wait_for_publish(30)
    wait_until(lambda: Reading.objects.count() == 2501, timeout=60, what="the whole burst")
    time.sleep(0.5)
    assert Reading.objects.count() == 2501  # acknowledged: nothing delivered twice
    assert consumer.stored == 2501
    sender.loop_stop()


def test_through_the_broker_a_failure_becomes_an_alarm_an_outage_and_links_the_appeals(broker, consumer):
    reference.ensure()
    home = BuildingFactory(address="пр. Энгельса, д. 10")
    station = EngineeringObjectFactory(
        code="tp-12",
        name="ТП-12",
        kind=ObjectKind.SUBSTATION,
        owner=OrganisationFactory(name="Горсети"),
        serves=[home],
    )
    DeviceFactory(code="tp-12-plc", object=station)
    earlier, _ = actions.register(
        channel="hotline",
        text="В доме нет света",
        building=home,
        topic=TopicFactory(code="zhkh-no-electricity", name="Отсутствие электроснабжения"),
        organisation=station.owner,
        at=timezone.now() - timedelta(minutes=15),
    )
    sender = publisher(broker.port)
    sender.publish("tsur/v1/tp-12-plc/readings", payload("substation_fault"), qos=1).wait_for_publish(5)

    wait_until(lambda: Outage.objects.filter(object=station).exists(), what="the outage")
    alarm = Alarm.objects.get(object=station, rule__name="Авария контроллера")
    assert alarm.severity == "critical"
    outage = Outage.objects.get(object=station)
    assert outage.services == ["electricity"]
    wait_until(lambda: outage.appeals.filter(pk=earlier.pk).exists(), what="the earlier appeal linked")
    assert Reading.objects.count() == 2
    assert {(r.reason, r.count) for r in Rejection.objects.all()} == {
        ("wrong_unit", 1), ("future", 1), ("unknown_metric", 1)
    }  # fmt: skip
    sender.loop_stop()


def test_what_the_broker_holds_survives_its_restart(plant, broker):
    first = Consumer(f"mqtt://127.0.0.1:{broker.port}", client_id="tsur-durable")
    first.start()
    wait_until(first.connected.is_set, what="the first subscription")
    first.stop()
    sender = publisher(broker.port)
    sender.publish("tsur/v1/plc-3-1/readings", readings(57.0, 57.5), qos=1).wait_for_publish(5)
    sender.loop_stop()
    sender.disconnect()

    broker.stop()  # saves its state (persistence) on the way down
    broker.start()
    back = Consumer(f"mqtt://127.0.0.1:{broker.port}", client_id="tsur-durable")
    back.start()
    wait_until(lambda: Reading.objects.count() == 2, timeout=30, what="the readings kept across the restart")
    back.stop()


def test_while_the_database_is_away_the_batch_waits_and_the_connection_stays(plant, broker, monkeypatch):
    waiting = Consumer(f"mqtt://127.0.0.1:{broker.port}", client_id="tsur-db-away", keepalive=1)
    real, back_at = waiting.intake.accept_many, time.monotonic() + 4  # four keep-alives of silence

    def database_away(*args, **kwargs):
        if time.monotonic() < back_at:
            raise OperationalError("connection to server at 127.0.0.1 failed")
        return real(*args, **kwargs)

    monkeypatch.setattr(waiting.intake, "accept_many", database_away)
    reconnects = []
    waiting.start()
    wait_until(waiting.connected.is_set, what="the subscription")
    monkeypatch.setattr(waiting.connected, "clear", lambda: reconnects.append(1))
    sender = publisher(broker.port)
    sender.publish("tsur/v1/plc-3-1/readings", readings(52.0), qos=1).wait_for_publish(5)
    wait_until(lambda: Reading.objects.count() == 1, timeout=30, what="the reading once the database is back")
    time.sleep(1.5)
    assert Reading.objects.count() == 1  # stored once: the broker kept the connection, sent nothing twice
    assert reconnects == []
    sender.loop_stop()
    waiting.stop()


def test_the_simulator_feeds_the_consumer_through_the_broker(broker, consumer):
    BuildingFactory.create_batch(30)
    controllers = simulator.fleet(20, prefix="t")
    assert len(controllers) == 20 == Device.objects.filter(code__startswith="t-").count()
    assert EngineeringObject.objects.filter(code__startswith="t-", serves__isnull=False).exists()

    sink = simulator.MqttSink(f"mqtt://127.0.0.1:{broker.port}")
    totals = simulator.run(controllers, sink, rate=200, duration=1.5, faults=True, faults_per_minute=600)
    assert totals.readings > 150
    wait_until(lambda: Reading.objects.count() == totals.readings, what="every good simulated reading")
