"""HttpFetcher against a real local HTTP server: every failure mode gives its own status."""

from __future__ import annotations

import pytest

from portraitsr4k.sources.http import HttpFetcher, opted_out


def _url(server, path: str) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}{path}"


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def fetcher(sleeps: list[float]) -> HttpFetcher:
    return HttpFetcher(connect_timeout=2.0, read_timeout=0.25, total_timeout=5.0, retries=2, backoff=0.01,
                       backoff_max=0.015, max_bytes=10_000, max_redirects=3, sleep=sleeps.append)


def test_good_file(http_server, fetcher: HttpFetcher) -> None:
    result = fetcher.fetch(_url(http_server, "/good.jpg"))
    assert result.status == "ok" and result.data == http_server.body and result.seconds > 0


@pytest.mark.parametrize(
    ("path", "status", "hits"),
    [
        ("/missing.jpg", "error:http_404", 1),            # 4xx: final, no retry
        ("/broken.jpg", "error:http_5xx", 3),             # 5xx: retried, then given up
        ("/truncated.jpg", "error:truncated", 1),         # Content-Length larger than the body
        ("/loop.jpg", "error:too_many_redirects", 4),     # cap of 3 redirects
        ("/page.html", "rejected:content_type", 1),
        ("/huge.jpg", "rejected:too_large", 1),           # Content-Length over the cap
        ("/huge-chunked.jpg", "rejected:too_large", 1),   # no length: counted while streaming
        ("/noai.jpg", "rejected:opt_out", 1),
        ("/noimageai-for-us.jpg", "rejected:opt_out", 1),
        ("/noai-redirect.jpg", "rejected:opt_out", 1),    # opt-out on a redirect hop counts too
    ],
)
def test_failure_modes(http_server, fetcher: HttpFetcher, path: str, status: str, hits: int) -> None:
    result = fetcher.fetch(_url(http_server, path))
    assert result.status == status, result.message
    assert result.data is None
    assert path in result.message
    assert http_server.hits[path] == hits


def test_retry_with_backoff_then_success(http_server, fetcher: HttpFetcher, sleeps: list[float]) -> None:
    result = fetcher.fetch(_url(http_server, "/flaky.jpg"))  # 503, 503, then 200
    assert result.status == "ok" and result.data == http_server.body
    assert http_server.hits["/flaky.jpg"] == 3
    assert sleeps == [0.01, 0.015]  # 0.01 * 2**k, capped at backoff_max


def test_slow_response_times_out_after_retries(http_server, fetcher: HttpFetcher) -> None:
    result = fetcher.fetch(_url(http_server, "/slow.jpg"))
    assert result.status == "error:timeout" and "after 3 attempts" in result.message
    assert http_server.hits["/slow.jpg"] == 3


def test_redirects_followed(http_server, fetcher: HttpFetcher) -> None:
    result = fetcher.fetch(_url(http_server, "/redirect.jpg"))
    assert result.status == "ok" and result.data == http_server.body
    assert http_server.hits["/hop.jpg"] == 1


def test_other_agent_opt_out_does_not_apply(http_server, fetcher: HttpFetcher) -> None:
    assert fetcher.fetch(_url(http_server, "/noai-other-agent.jpg")).status == "ok"


def test_refused_connection_and_bad_scheme(fetcher: HttpFetcher) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    refused = fetcher.fetch(f"http://127.0.0.1:{port}/x.jpg")
    assert refused.status == "error:connection"
    assert fetcher.fetch("file:///etc/passwd").status == "rejected:url_scheme"
    assert fetcher.fetch("ftp://example.org/a.jpg").status == "rejected:url_scheme"


def test_opted_out_parsing() -> None:
    assert opted_out(["noindex, noai"], "portraitsr4k", ["noai", "noimageai"]) == "noindex, noai"
    assert opted_out(["PortraitSR4K: NoImageAI"], "portraitsr4k", ["noai", "noimageai"]) is not None
    assert opted_out(["otherbot: noai"], "portraitsr4k", ["noai", "noimageai"]) is None
    assert opted_out(["noindex", "nofollow"], "portraitsr4k", ["noai", "noimageai"]) is None


def test_fetcher_pickles_without_session(fetcher: HttpFetcher, http_server) -> None:
    import pickle

    fetcher.fetch(_url(http_server, "/good.jpg"))
    clone = pickle.loads(pickle.dumps(fetcher))
    assert clone.fetch(_url(http_server, "/good.jpg")).status == "ok"


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="read_timeout"):
        HttpFetcher(read_timeout=0)
    with pytest.raises(ValueError, match="retries"):
        HttpFetcher(retries=-1)
    with pytest.raises(TypeError, match="opt_out_directives"):
        HttpFetcher(opt_out_directives="noai")
