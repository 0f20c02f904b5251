"""The suite's own helpers that a test relies on for being quiet and stable."""

import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler

import pytest

from tests.support import QuietHTTPServer


class _Failing(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/hung-up":
            raise BrokenPipeError(32, "Broken pipe")  # what a client that left causes
        raise ValueError("a bug in the handler")


def test_a_client_hanging_up_prints_no_traceback_but_a_bug_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = QuietHTTPServer(("127.0.0.1", 0), _Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for path in ("/hung-up", "/bug"):
            with pytest.raises((urllib.error.URLError, ConnectionError)):
                urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}{path}", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    err = capsys.readouterr().err
    assert "BrokenPipeError" not in err
    assert "ValueError: a bug in the handler" in err
