"""The MQTT listener (``manage.py mqtt_listen``): sensors' payloads on a broker → items.

One paho-mqtt 2 client (callback API version 2) subscribes to the topics of the enabled
sources whose delivery is MQTT, and reloads that list every ``reload_seconds``. A message's
topic maps to the first source whose topic filter matches it (MQTT wildcards ``+`` and ``#``
allowed), and its payload goes to ``payload_ingest`` as any other payload.

FIWARE IoT Agent topics (``/json/<apikey>/<device>/attrs``, ``/json/<apikey>/<device>/attrs/
<attribute>``, and UltraLight 2.0's ``/ul/<apikey>/<device>/attrs`` with ``t|15|h|70``) carry
bare measures (``{"h": 70, "t": 15}``) that name neither the device nor the time. The listener
wraps them in an envelope before ingesting, so that a source of standard ``json`` reads them
through its field mapping::

    {"device": "id_sen1", "apikey": "ABCDEF", "received_at": "2026-…Z", "attrs": {"h": 70, "t": 15}}

e.g. ``{"items": "", "id": "device", "title": "=Capteur place des Épars",
"value:temperature": "attrs.t", "unit:temperature": "Cel", "observed_at": "received_at"}``,
with the source's topic ``/json/ABCDEF/+/attrs``. Other topics' payloads are ingested as sent.

It never exits on a broker error (paho reconnects with a backoff of 1 to 30 s, including when
the broker is not there at start) nor on a payload error (logged, recorded on the source).
"""

import datetime as dt
import json
import logging
import re
import ssl
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from django.db import close_old_connections, connection
from django.utils import timezone
from paho.mqtt.enums import CallbackAPIVersion

from city_feeds.items import FeedError
from city_feeds.models import FeedDelivery, FeedSource
from city_feeds.services import payload_ingest, source_failure_record

logger = logging.getLogger(__name__)

IOT_AGENT_TOPIC = re.compile(
    r"/(?P<protocol>json|ul)/(?P<apikey>[^/]+)/(?P<device>[^/]+)/attrs(?:/(?P<attribute>[^/]+))?"
)
RECONNECT_MIN_SECONDS = 1
RECONNECT_MAX_SECONDS = 30
KEEPALIVE_SECONDS = 30


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None


def broker_address(url: str) -> BrokerAddress:
    """``mqtt://[user:password@]host[:port]`` (1883) or ``mqtts://…`` (8883, TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError(f"not an MQTT URL: {url!r} (mqtt://host:port or mqtts://host:port)")
    tls = parts.scheme == "mqtts"
    return BrokerAddress(
        host=parts.hostname,
        port=parts.port or (8883 if tls else 1883),
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def _ultralight_attrs(text: str) -> dict[str, str]:
    fields = text.strip().split("|")
    if len(fields) % 2:
        raise FeedError("UltraLight 2.0 measure with an odd number of fields")
    return dict(zip(fields[::2], fields[1::2], strict=True))


def iot_agent_envelope(*, topic: str, payload: bytes, now: dt.datetime) -> bytes | None:
    """The envelope of an IoT Agent measure (see the module's docstring), or ``None`` when
    ``topic`` is not an IoT Agent topic. Raises ``FeedError`` for unreadable measures."""
    match = IOT_AGENT_TOPIC.fullmatch(topic)
    if match is None:
        return None
    try:
        text = payload.decode("utf-8")
        if match["attribute"]:
            attrs: Any = {match["attribute"]: text.strip()}
        elif match["protocol"] == "ul":
            attrs = _ultralight_attrs(text)
        else:
            attrs = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise FeedError(f"unreadable IoT Agent measure: {err}") from err
    if not isinstance(attrs, dict):
        raise FeedError("an IoT Agent measure must be an object of attributes")
    envelope = {
        "device": match["device"],
        "apikey": match["apikey"],
        "received_at": now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "attrs": attrs,
    }
    return json.dumps(envelope).encode()


class Listener:
    """Subscribes to the MQTT sources' topics and ingests what arrives (see the module)."""

    def __init__(
        self,
        *,
        broker: BrokerAddress,
        reload_seconds: float = 60.0,
        reconnect_max_seconds: int = RECONNECT_MAX_SECONDS,
    ) -> None:
        self.broker = broker
        self.reload_seconds = reload_seconds
        self.reconnect_max_seconds = reconnect_max_seconds
        self._topics: dict[str, int] = {}  # topic filter -> source id
        self._lock = threading.Lock()
        self.client = self._client()

    def _client(self) -> mqtt.Client:
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"carillon-{threading.get_native_id()}-{id(self):x}",
            clean_session=True,
        )
        if self.broker.username:
            client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        client.reconnect_delay_set(RECONNECT_MIN_SECONDS, self.reconnect_max_seconds)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_message = self._on_message
        return client

    def run(self, stop: threading.Event) -> None:
        """Listen until ``stop`` is set; the source list is reloaded every ``reload_seconds``."""
        logger.info("mqtt listener starts broker=%s:%s", self.broker.host, self.broker.port)
        self.sources_reload()
        self.client.connect_async(self.broker.host, self.broker.port, KEEPALIVE_SECONDS)
        self.client.loop_start()  # connects, and reconnects, in its own thread
        try:
            while not stop.wait(self.reload_seconds):
                self.sources_reload()
        finally:
            self.client.disconnect()
            self.client.loop_stop()
            connection.close()
            logger.info("mqtt listener stopped")

    def sources_reload(self) -> None:
        """Subscribe to new sources' topics, unsubscribe from those gone or disabled."""
        try:
            close_old_connections()
            rows = FeedSource.objects.filter(enabled=True, delivery=FeedDelivery.MQTT)
            topics = {topic: pk for pk, topic in rows.exclude(topic="").values_list("pk", "topic")}
        except Exception:  # noqa: BLE001 - a database outage must not stop the listener
            logger.exception("mqtt sources not reloaded")
            return
        with self._lock:
            added = sorted(set(topics) - set(self._topics))
            removed = sorted(set(self._topics) - set(topics))
            self._topics = topics
        if self.client.is_connected():
            for topic in added:
                self.client.subscribe(topic, qos=1)
            for topic in removed:
                self.client.unsubscribe(topic)
        if added or removed:
            logger.info("mqtt topics added=%s removed=%s", added, removed)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:  # fmt: skip
        if reason.is_failure:
            logger.warning("mqtt connection refused reason=%s", reason)
            return
        with self._lock:
            topics = sorted(self._topics)
        logger.info("mqtt connected topics=%s", topics)
        for topic in topics:
            client.subscribe(topic, qos=1)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:  # fmt: skip
        logger.warning("mqtt disconnected reason=%s (reconnecting)", reason)

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        logger.warning(
            "mqtt broker unreachable broker=%s:%s (retrying)", self.broker.host, self.broker.port
        )

    def source_for(self, topic: str) -> int | None:
        with self._lock:
            for topic_filter, source_id in self._topics.items():
                if mqtt.topic_matches_sub(topic_filter, topic):
                    return source_id
        return None

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            self.message_ingest(topic=message.topic, payload=message.payload)
        except Exception:  # noqa: BLE001 - the listener never exits on a message
            logger.exception("mqtt message not ingested topic=%s", message.topic)

    def message_ingest(self, *, topic: str, payload: bytes) -> None:
        """Ingest one message for the source its topic maps to (as a request does, with the
        database connection checked before and released after)."""
        source_id = self.source_for(topic)
        if source_id is None:
            logger.info("mqtt message for no source topic=%s", topic)
            return
        close_old_connections()
        try:
            self._ingest(source_id=source_id, topic=topic, payload=payload)
        finally:
            close_old_connections()

    def _ingest(self, *, source_id: int, topic: str, payload: bytes) -> None:
        source = FeedSource.objects.filter(pk=source_id, enabled=True).first()
        if source is None:
            return
        now = timezone.now()
        try:
            data = iot_agent_envelope(topic=topic, payload=payload, now=now) or payload
        except FeedError as err:
            source_failure_record(source=source, reason=str(err), now=now)
            return
        try:
            result = payload_ingest(source=source, data=data, now=now)
        except FeedError as err:  # recorded on the source by the service
            logger.warning("mqtt payload refused source=%s reason=%s", source.slug, err)
            return
        logger.info(
            "mqtt message ingested source=%s created=%s updated=%s",
            source.slug, result.created, result.updated,
        )  # fmt: skip
