"""The MQTT listener against real Mosquitto brokers: the shared one on 127.0.0.1:1883, and
brokers of the test's own (started late, stopped and started again) on free ports."""

import datetime as dt
import json
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.publish as publish
import pytest

from city_feeds.items import FeedError
from city_feeds.models import FeedDelivery, FeedItem, FeedSource, FeedStandard
from city_feeds.mqtt import BrokerAddress, Listener, broker_address, iot_agent_envelope
from tests.city_feeds.feed_factories import FeedSourceFactory, payload

PARKINGS = payload("ngsi-ld-notification-chartres-parkings.json")
SHARED_BROKER = BrokerAddress(host="127.0.0.1", port=1883)
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def eventually(check: Callable[[], bool], *, publish_again: Callable[[], None], seconds: float) -> bool:  # fmt: skip
    """Publish until ``check`` holds (a message sent before the subscription is lost)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        publish_again()
        for _ in range(5):
            if check():
                return True
            time.sleep(0.1)
    return False


def publisher(broker: BrokerAddress, topic: str, body: bytes) -> Callable[[], None]:
    def send() -> None:
        try:
            publish.single(topic, body, qos=1, hostname=broker.host, port=broker.port)
        except OSError:  # the broker is not there (yet): try again
            pass

    return send


class RunningListener:
    def __init__(self, broker: BrokerAddress) -> None:
        self.listener = Listener(broker=broker, reload_seconds=0.2, reconnect_max_seconds=1)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.listener.run, args=(self.stop,), daemon=True)

    def __enter__(self) -> "RunningListener":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive()


def mqtt_source(topic: str, **fields: object) -> FeedSource:
    return FeedSourceFactory.create(delivery=FeedDelivery.MQTT, topic=topic, **fields)


def item_count(source: FeedSource) -> Callable[[], bool]:
    return lambda: FeedItem.objects.filter(source=source).exists()


@pytest.mark.django_db(transaction=True)
def test_a_published_payload_is_stored() -> None:
    topic = f"carillon-test/{uuid.uuid4().hex}/parkings"
    source = mqtt_source(topic)
    with RunningListener(SHARED_BROKER) as running:
        assert eventually(
            item_count(source), publish_again=publisher(SHARED_BROKER, topic, PARKINGS), seconds=10
        )
        assert running.thread.is_alive()
    assert FeedItem.objects.filter(source=source, kind="parking").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_garbage_payload_is_recorded_and_the_listener_goes_on() -> None:
    base = f"carillon-test/{uuid.uuid4().hex}"
    source = mqtt_source(f"{base}/#")
    failed = lambda: FeedSource.objects.get(pk=source.pk).consecutive_failures > 0  # noqa: E731
    with RunningListener(SHARED_BROKER) as running:
        garbage = publisher(SHARED_BROKER, f"{base}/a", b"{not json")
        assert eventually(failed, publish_again=garbage, seconds=10)
        assert running.thread.is_alive()
        good = publisher(SHARED_BROKER, f"{base}/b", PARKINGS)
        assert eventually(item_count(source), publish_again=good, seconds=10)
    source.refresh_from_db()
    assert source.consecutive_failures == 0 and "JSON" in source.last_failure_reason


@pytest.mark.django_db(transaction=True)
def test_an_iot_agent_measure_becomes_an_item_of_its_device() -> None:
    apikey = uuid.uuid4().hex[:12]
    mapping = {
        "items": "",
        "id": "device",
        "title": "=Capteur place des Épars",
        "value:temperature": "attrs.t",
        "unit:temperature": "Cel",
        "value:humidity": "attrs.h",
        "unit:humidity": "%",
        "observed_at": "received_at",
    }
    source = mqtt_source(
        f"/json/{apikey}/+/attrs",
        standard=FeedStandard.JSON,
        item_kind="weather",
        field_mapping=mapping,
    )
    topic = f"/json/{apikey}/id_sen1/attrs"
    measure = payload("mqtt-fiware-iotagent-json-measure.json")
    with RunningListener(SHARED_BROKER):
        assert eventually(
            item_count(source), publish_again=publisher(SHARED_BROKER, topic, measure), seconds=10
        )
    item = FeedItem.objects.get(source=source)
    assert item.external_id == "id_sen1" and item.kind == "weather"
    values = {v["name"]: (v["value"], v["unit"]) for v in item.values}
    assert values == {"temperature": (15, "Cel"), "humidity": (70, "%")}
    assert item.observed_at is not None
    assert abs((item.observed_at - item.received_at).total_seconds()) < 5


@pytest.mark.django_db(transaction=True)
def test_a_disabled_source_is_unsubscribed_at_the_next_reload() -> None:
    topic = f"carillon-test/{uuid.uuid4().hex}/parkings"
    source = mqtt_source(topic)
    with RunningListener(SHARED_BROKER) as running:
        send = publisher(SHARED_BROKER, topic, PARKINGS)
        assert eventually(item_count(source), publish_again=send, seconds=10)
        FeedItem.objects.all().delete()
        FeedSource.objects.filter(pk=source.pk).update(enabled=False)
        time.sleep(0.6)  # a few reloads
        assert running.listener.source_for(topic) is None
        send()
        time.sleep(0.5)
    assert not FeedItem.objects.exists()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[tuple[BrokerAddress, Callable[[], None], Callable[[], None]]]:  # fmt: skip
    """A Mosquitto of the test's own, not started yet: (address, start, stop)."""
    port = free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    processes: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        process = subprocess.Popen([MOSQUITTO, "-c", str(config)], stderr=subprocess.DEVNULL)
        processes.append(process)
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("mosquitto did not start")

    def stop() -> None:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(10)

    yield BrokerAddress(host="127.0.0.1", port=port), start, stop
    stop()


@pytest.mark.django_db(transaction=True)
def test_the_listener_waits_for_an_absent_broker_and_survives_its_restart(
    own_broker: tuple[BrokerAddress, Callable[[], None], Callable[[], None]],
) -> None:
    broker, start, stop = own_broker
    topic = f"carillon-test/{uuid.uuid4().hex}/parkings"
    source = mqtt_source(topic)
    send = publisher(broker, topic, PARKINGS)
    with RunningListener(broker) as running:
        time.sleep(1.5)  # connection refused, several times
        assert running.thread.is_alive()
        start()
        assert eventually(item_count(source), publish_again=send, seconds=15)
        stop()
        FeedItem.objects.all().delete()
        time.sleep(1.5)
        assert running.thread.is_alive()
        start()
        assert eventually(item_count(source), publish_again=send, seconds=15)
        assert running.thread.is_alive()


def test_an_iot_agent_envelope_carries_device_time_and_measures() -> None:
    now = dt.datetime(2025, 6, 14, 12, 0, tzinfo=dt.UTC)
    envelope = iot_agent_envelope(topic="/json/ABCDEF/id_sen1/attrs", payload=b'{"t": 15}', now=now)
    assert envelope is not None
    assert json.loads(envelope) == {
        "device": "id_sen1",
        "apikey": "ABCDEF",
        "received_at": "2025-06-14T12:00:00Z",
        "attrs": {"t": 15},
    }
    single = iot_agent_envelope(topic="/json/K/dev/attrs/t", payload=b"15", now=now)
    assert single is not None and json.loads(single)["attrs"] == {"t": "15"}
    ultralight = iot_agent_envelope(topic="/ul/K/dev/attrs", payload=b"t|15|h|70", now=now)
    assert ultralight is not None and json.loads(ultralight)["attrs"] == {"t": "15", "h": "70"}
    assert iot_agent_envelope(topic="city/parkings", payload=b"{}", now=now) is None
    for garbage in (b"[1, 2]", b"\xff", b"{"):
        with pytest.raises(FeedError):
            iot_agent_envelope(topic="/json/K/dev/attrs", payload=garbage, now=now)


def test_broker_urls() -> None:
    assert broker_address("mqtt://127.0.0.1:1883") == BrokerAddress("127.0.0.1", 1883)
    assert broker_address("mqtts://user:p%40ss@broker.chartres.example") == BrokerAddress(
        "broker.chartres.example", 8883, tls=True, username="user", password="p@ss"
    )
    with pytest.raises(ValueError, match="not an MQTT URL"):
        broker_address("http://127.0.0.1:1883")
