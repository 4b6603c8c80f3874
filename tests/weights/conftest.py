"""Fixtures for the weights registry: isolated homes/caches and a local HTTP file server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


@pytest.fixture
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Every cache root the resolver reads, pointed at empty folders under tmp_path."""
    roots = {name: tmp_path / name for name in ("psr", "torch", "insightface", "hf")}
    monkeypatch.setenv("PORTRAITSR4K_HOME", str(roots["psr"]))
    monkeypatch.setenv("TORCH_HOME", str(roots["torch"]))
    monkeypatch.setenv("INSIGHTFACE_HOME", str(roots["insightface"]))
    monkeypatch.setenv("HF_HUB_CACHE", str(roots["hf"]))
    roots["weights"] = roots["psr"] / "weights"
    return roots


class FileServer:
    """Serves ``files`` (URL path -> bytes) on 127.0.0.1; counts requests per path."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.hits: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                body = server.files.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def file_server() -> Iterator[FileServer]:
    server = FileServer()
    yield server
    server.close()


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL nobody listens on (connection refused at once, like an offline host)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
