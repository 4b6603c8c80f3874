"""A local HTTP server on 127.0.0.1 with the misbehaviours the metadata source must survive."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

GOOD_BODY_SIZE = 3000


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, code: int, body: bytes = b"", content_type: str = "image/jpeg",
              headers: tuple[tuple[str, str], ...] = (), length: int | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self) -> None:  # noqa: N802  (http.server API)
        path = self.path.split("?", 1)[0]
        self.server.hits[path] += 1
        body = self.server.body
        if path == "/good.jpg":
            self._send(200, body)
        elif path == "/slow.jpg":
            time.sleep(0.6)
            self._send(200, body)
        elif path == "/missing.jpg":
            self._send(404, b"not found", "text/plain")
        elif path == "/flaky.jpg":
            if self.server.hits[path] <= 2:
                self._send(503, b"busy", "text/plain")
            else:
                self._send(200, body)
        elif path == "/broken.jpg":
            self._send(500, b"boom", "text/plain")
        elif path == "/truncated.jpg":
            self._send(200, body[:1000], length=len(body))
            self.close_connection = True
        elif path == "/redirect.jpg":
            self._send(302, headers=(("Location", "/hop.jpg"),), content_type="text/plain")
        elif path == "/hop.jpg":
            self._send(301, headers=(("Location", "/good.jpg"),), content_type="text/plain")
        elif path == "/loop.jpg":
            self._send(302, headers=(("Location", "/loop.jpg"),), content_type="text/plain")
        elif path == "/page.html":
            self._send(200, b"<html>not an image</html>", "text/html; charset=utf-8")
        elif path == "/huge.jpg":
            self._send(200, body * 10)
        elif path == "/huge-chunked.jpg":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(10):
                self.wfile.write(f"{len(body):x}\r\n".encode() + body + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/noai.jpg":
            self._send(200, body, headers=(("X-Robots-Tag", "noindex, noai"),))
        elif path == "/noimageai-for-us.jpg":
            self._send(200, body, headers=(("X-Robots-Tag", "googlebot: noindex"),
                                           ("X-Robots-Tag", "portraitsr4k: noimageai")))
        elif path == "/noai-other-agent.jpg":
            self._send(200, body, headers=(("X-Robots-Tag", "otherbot: noai"),))
        elif path == "/noai-redirect.jpg":
            self._send(302, headers=(("Location", "/good.jpg"), ("X-Robots-Tag", "noai")), content_type="text/plain")
        else:
            self._send(404, b"", "text/plain")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hits: Counter
    body: bytes

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up (timeout test) leaves a broken pipe here; that is expected."""
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@pytest.fixture
def http_server(make_encoded) -> Iterator[_Server]:
    """``http://127.0.0.1:<port>`` serving the routes of ``_Handler``; ``.hits`` counts requests."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.hits = Counter()
    server.body = make_encoded("JPEG", 48, 64, quality=95)
    assert 1000 < len(server.body) < 5000  # test_http caps bodies at 10 kB: huge = 10 x body
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def base_url(server: _Server) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"
