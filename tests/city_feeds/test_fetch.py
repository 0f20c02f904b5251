"""Fetches of editor-set URLs against a local HTTP server serving recorded payloads, slowly,
with errors, too large, and redirecting; the outbound allow-list."""

import gzip
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from city_feeds import tasks
from city_feeds.fetch import AddressRefused, FetchError, address_allowed, url_fetch
from city_feeds.models import FeedDelivery, FeedItem, FeedSource
from city_feeds.services import source_poll, sources_due_claim
from tests.city_feeds.feed_factories import FeedSourceFactory, payload
from tests.support import QuietHTTPServer

PARKINGS = payload("ngsi-ld-notification-chartres-parkings.json")


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def answer(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        port = self.server.server_port  # type: ignore[attr-defined]
        routes = {
            "/parkings": lambda: self.answer(200, PARKINGS),
            "/error": lambda: self.answer(500, b"boom"),
            "/missing": lambda: self.answer(404, b"no"),
            "/slow": self.slow,
            "/trickle": self.trickle,
            "/big": lambda: self.answer(200, b"x" * 5000),
            "/big-unannounced": self.big_unannounced,
            "/gzip": lambda: self.answer(200, gzip.compress(PARKINGS), Content_Encoding="gzip"),
            "/same-host": lambda: self.answer(302, b"", Location="/parkings"),
            "/twice": lambda: self.answer(301, b"", Location="/same-host"),
            "/loop": lambda: self.answer(302, b"", Location="/loop"),
            "/other-host": lambda: self.answer(
                302, b"", Location=f"http://localhost:{port}/parkings"
            ),
            "/headers": lambda: self.answer(200, self.headers.get("apikey", "").encode()),
        }
        routes.get(self.path, lambda: self.answer(404, b""))()

    def slow(self) -> None:
        time.sleep(3)
        self.answer(200, PARKINGS)

    def trickle(self) -> None:
        """A valid answer, one byte every 50 ms: each read is quick, the whole is not."""
        self.send_response(200)
        self.send_header("Content-Length", str(len(PARKINGS)))
        self.end_headers()
        try:
            for byte in PARKINGS:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:  # the client hung up: what we want
            return

    def big_unannounced(self) -> None:
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            for _ in range(100):
                self.wfile.write(b"y" * 1000)
        except OSError:
            return


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = QuietHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def _limits(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CARILLON_FEED_TIMEOUT_SECONDS = 1
    settings.CARILLON_FEED_MAX_BYTES = 4000


def test_a_good_answer_is_returned(server: str) -> None:
    assert url_fetch(url=f"{server}/parkings") == PARKINGS


def test_the_sources_credentials_are_sent_as_headers(server: str) -> None:
    assert url_fetch(url=f"{server}/headers", headers={"apikey": "clef"}) == b"clef"


@pytest.mark.parametrize(("path", "transient"), [("/error", True), ("/missing", False)])
def test_an_error_status_is_a_fetch_error(server: str, path: str, transient: bool) -> None:
    with pytest.raises(FetchError) as failure:
        url_fetch(url=server + path)
    assert failure.value.transient is transient
    assert failure.value.reason.startswith("HTTP 5" if transient else "HTTP 404")


def test_a_slow_endpoint_is_cut_at_the_deadline(server: str) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match="network error|within"):
        url_fetch(url=f"{server}/slow")
    assert time.monotonic() - started < 2


def test_a_trickling_endpoint_is_cut_at_the_deadline(server: str) -> None:
    """Each byte comes well within the read timeout; the whole would take over a minute."""
    started = time.monotonic()
    with pytest.raises(FetchError, match="within|network error"):
        url_fetch(url=f"{server}/trickle")
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("path", ["/big", "/big-unannounced"])
def test_an_oversized_body_is_cut(server: str, path: str) -> None:
    with pytest.raises(FetchError, match="too large") as failure:
        url_fetch(url=server + path)
    assert not failure.value.transient


def test_a_compressed_answer_is_refused(server: str) -> None:
    with pytest.raises(FetchError, match="compressed"):
        url_fetch(url=f"{server}/gzip")


@pytest.mark.parametrize("path", ["/same-host", "/twice"])
def test_redirects_on_the_same_host_are_followed(server: str, path: str) -> None:
    assert url_fetch(url=server + path) == PARKINGS


def test_a_redirect_to_another_host_is_refused(server: str) -> None:
    with pytest.raises(FetchError, match="another host"):
        url_fetch(url=f"{server}/other-host")


def test_redirects_stop_after_three(server: str) -> None:
    with pytest.raises(FetchError, match="more than 3 redirects"):
        url_fetch(url=f"{server}/loop")


def test_only_http_urls_are_fetched() -> None:
    with pytest.raises(FetchError, match="only http"):
        url_fetch(url="file:///etc/passwd")


def test_loopback_is_refused_outside_the_tests(server: str, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CARILLON_FEED_ALLOW_LOOPBACK = False
    with pytest.raises(AddressRefused, match="127.0.0.1"):
        url_fetch(url=f"{server}/parkings")
    with pytest.raises(AddressRefused):  # a private source does not open loopback
        url_fetch(url=f"{server}/parkings", allow_private=True)
    port = server.rsplit(":", 1)[1]
    with pytest.raises(AddressRefused):  # nor does a name that resolves to it
        url_fetch(url=f"http://localhost:{port}/parkings")


@pytest.mark.parametrize(
    ("address", "public_only", "private_allowed"),
    [
        ("93.184.215.14", True, True),
        ("2a00:1450:4007:80c::200e", True, True),
        ("10.0.0.1", False, True),
        ("192.168.1.20", False, True),
        ("172.16.5.4", False, True),
        ("fd12:3456::1", False, True),
        ("127.0.0.1", False, False),
        ("127.5.6.7", False, False),
        ("::1", False, False),
        ("::ffff:127.0.0.1", False, False),
        ("169.254.169.254", False, False),
        ("fe80::1", False, False),
        ("224.0.0.1", False, False),
        ("0.0.0.0", False, False),  # noqa: S104 - an address under test, not a bind
        ("240.0.0.1", False, False),
        ("not an address", False, False),
    ],
)
def test_the_allow_list(address: str, public_only: bool, private_allowed: bool) -> None:
    assert address_allowed(address, allow_private=False) is public_only
    assert address_allowed(address, allow_private=True) is private_allowed


def test_loopback_only_where_the_setting_allows_it() -> None:
    assert address_allowed("127.0.0.1", allow_private=False, allow_loopback=True)
    assert address_allowed("::1", allow_private=False, allow_loopback=True)
    assert not address_allowed("169.254.169.254", allow_private=True, allow_loopback=True)


@pytest.mark.django_db
def test_a_poll_stores_the_items(server: str) -> None:
    source = FeedSourceFactory(delivery=FeedDelivery.POLL, url=f"{server}/parkings")
    result = source_poll(source=source)
    assert result is not None and result.created == 2
    source.refresh_from_db()
    assert source.last_success_at is not None and source.consecutive_failures == 0


@pytest.mark.django_db
def test_a_failed_poll_is_recorded_and_the_last_good_data_kept(server: str) -> None:
    source = FeedSourceFactory(delivery=FeedDelivery.POLL, url=f"{server}/parkings")
    source_poll(source=source)
    source.url = f"{server}/error"
    assert source_poll(source=source) is None
    source.refresh_from_db()
    assert source.consecutive_failures == 1
    assert source.last_failure_reason.startswith("HTTP 500")
    assert FeedItem.objects.filter(source=source).count() == 2


@pytest.mark.django_db
def test_a_transient_failure_is_raised_for_a_retry_and_not_recorded(server: str) -> None:
    source = FeedSourceFactory(delivery=FeedDelivery.POLL, url=f"{server}/error")
    with pytest.raises(FetchError):
        source_poll(source=source, record_transient=False)
    source.refresh_from_db()
    assert source.consecutive_failures == 0
    source.url = f"{server}/missing"  # a 404 is not worth a retry: recorded at once
    assert source_poll(source=source, record_transient=False) is None
    source.refresh_from_db()
    assert source.consecutive_failures == 1


@pytest.mark.django_db
def test_due_sources_are_claimed_once_per_interval(server: str) -> None:
    due = FeedSourceFactory(delivery=FeedDelivery.POLL, url=f"{server}/parkings")
    FeedSourceFactory(delivery=FeedDelivery.POLL, url=f"{server}/parkings", enabled=False)
    FeedSourceFactory(delivery=FeedDelivery.PUSH)
    assert sources_due_claim() == [due.pk]
    assert sources_due_claim() == []  # claimed: its next poll is an interval away
    FeedSource.objects.filter(pk=due.pk).update(next_poll_at=None)
    assert sources_due_claim() == [due.pk]


@pytest.mark.django_db
def test_the_poll_task_retries_a_5xx_and_records_one_failure(server: str) -> None:
    source = FeedSourceFactory(delivery=FeedDelivery.POLL, url=f"{server}/error")
    tasks.source_poll.apply(args=[source.pk])  # eager: the retries run at once
    source.refresh_from_db()
    assert source.consecutive_failures == 1
    assert source.last_failure_reason.startswith("HTTP 500")


@pytest.mark.django_db
def test_the_poll_task_ingests_and_skips_disabled_sources(server: str) -> None:
    source = FeedSourceFactory(delivery=FeedDelivery.POLL, url=f"{server}/parkings")
    assert tasks.source_poll.apply(args=[source.pk]).get() == 2
    FeedSource.objects.filter(pk=source.pk).update(enabled=False)
    assert tasks.source_poll.apply(args=[source.pk]).get() is None


@pytest.mark.django_db
def test_the_beat_task_enqueues_the_due_sources(server: str) -> None:
    FeedSourceFactory(delivery=FeedDelivery.POLL, url=f"{server}/parkings")
    assert tasks.feeds_poll.apply().get() == 1
    assert tasks.feeds_poll.apply().get() == 0
