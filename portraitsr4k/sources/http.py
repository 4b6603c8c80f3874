"""HTTP download of one image URL with the safety rules of the ``metadata`` source.

:class:`HttpFetcher` (a ``requests.Session`` per fetcher):

- only ``http``/``https`` URLs (``rejected:url_scheme``);
- ``timeout=(connect, read)`` seconds per socket operation plus ``total_timeout`` for the whole
  body, so a server that drips one byte a second cannot hold a worker (``error:timeout``);
- retries with exponential back-off (``backoff * 2**attempt``, capped at ``backoff_max``) on
  HTTP 5xx and timeouts only: 4xx answers and policy rejections are final, and retrying a
  refused connection only wastes time (``error:connection``);
- redirects followed up to ``max_redirects`` (``error:too_many_redirects`` past that);
- opt-out honoured before the body is read: an ``X-Robots-Tag`` header on the final response or
  on any redirect hop whose directives include one of ``opt_out_directives`` (``noai``,
  ``noimageai`` by default), either for every agent or for ``user_agent_token``
  (``X-Robots-Tag: portraitsr4k: noai``) gives ``rejected:opt_out`` — the convention
  img2dataset and the Spawning opt-out use;
- ``Content-Type`` must be ``image/*`` (``rejected:content_type``);
- size cap ``max_bytes`` checked on ``Content-Length`` and again while streaming
  (``rejected:too_large``);
- a body shorter than its ``Content-Length`` is ``error:truncated`` (never stored).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import requests

from portraitsr4k.sources.base import FetchResult

logger = logging.getLogger(__name__)

_CHUNK = 256 * 1024


class _Final(Exception):
    """A non-retryable outcome raised inside one attempt."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Retryable(Exception):
    """A retryable outcome (5xx, timeout) raised inside one attempt."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


def opted_out(header_values: Sequence[str], user_agent_token: str, directives: Sequence[str]) -> str | None:
    """The offending ``X-Robots-Tag`` value if it forbids AI use for us, else ``None``.

    Each value is ``[<agent>:] directive[, directive ...]``; a value without an agent applies to
    everyone, one with an agent only when it equals ``user_agent_token`` (case-insensitive).
    """
    wanted = {d.strip().lower() for d in directives}
    token = user_agent_token.strip().lower()
    for value in header_values:
        agent, sep, rest = value.partition(":")
        if sep and agent.strip() and " " not in agent.strip() and "," not in agent:
            if agent.strip().lower() != token:
                continue
            found = rest
        else:
            found = value
        if wanted & {d.strip().lower() for d in found.split(",")}:
            return value
    return None


class HttpFetcher:
    """Download image URLs (see the module docstring for every rule).

    Args:
        connect_timeout / read_timeout: seconds per connect / per read of a socket.
        total_timeout: seconds for one whole attempt (headers and body).
        retries: extra attempts after a 5xx answer or a timeout.
        backoff / backoff_max: first back-off delay and its cap, in seconds.
        max_bytes: largest body accepted.
        max_redirects: most redirects followed.
        user_agent_token: our crawler token, used in ``User-Agent`` and for agent-specific opt-outs.
        opt_out_directives: ``X-Robots-Tag`` directives that forbid use.
        sleep: the back-off sleep function (tests may pass a recorder).
    """

    def __init__(self, *, connect_timeout: float = 10.0, read_timeout: float = 30.0, total_timeout: float = 120.0,
                 retries: int = 3, backoff: float = 1.0, backoff_max: float = 30.0, max_bytes: int = 200_000_000,
                 max_redirects: int = 5, user_agent_token: str = "portraitsr4k",
                 opt_out_directives: Sequence[str] = ("noai", "noimageai"),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        for name, value in (("connect_timeout", connect_timeout), ("read_timeout", read_timeout),
                            ("total_timeout", total_timeout)):
            if not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"{name} must be a number > 0, got {value!r}")
        for name, value in (("retries", retries), ("max_redirects", max_redirects)):
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an int >= 0, got {value!r}")
        if not isinstance(max_bytes, int) or max_bytes <= 0:
            raise ValueError(f"max_bytes must be an int > 0, got {max_bytes!r}")
        if backoff < 0 or backoff_max < 0:
            raise ValueError(f"backoff and backoff_max must be >= 0, got {backoff!r}, {backoff_max!r}")
        if isinstance(opt_out_directives, str):
            raise TypeError("opt_out_directives must be a list of directives, not a single string")
        self.timeout = (float(connect_timeout), float(read_timeout))
        self.total_timeout = float(total_timeout)
        self.retries = retries
        self.backoff = float(backoff)
        self.backoff_max = float(backoff_max)
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.user_agent_token = user_agent_token
        self.opt_out_directives = tuple(opt_out_directives)
        self._sleep = sleep
        self._session: requests.Session | None = None

    @property
    def session(self) -> requests.Session:
        """Created lazily so a fetcher can be pickled to worker processes before first use."""
        if self._session is None:
            session = requests.Session()
            session.max_redirects = self.max_redirects
            session.headers["User-Agent"] = f"Mozilla/5.0 (compatible; {self.user_agent_token}; +https://pypi.org/project/portraitsr4k)"
            session.headers["Accept"] = "image/*"
            self._session = session
        return self._session

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_session"] = None
        return state

    def fetch(self, url: str) -> FetchResult:
        """Download ``url``; never raises."""
        start = time.perf_counter()
        scheme = urlsplit(url).scheme.lower() if isinstance(url, str) else ""
        if scheme not in ("http", "https"):
            return FetchResult("rejected:url_scheme", f"only http(s) URLs are fetched, got {url!r}",
                               seconds=time.perf_counter() - start)
        last: _Retryable | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                delay = min(self.backoff * 2 ** (attempt - 1), self.backoff_max)
                logger.debug("retry %d/%d for %s in %.2fs (%s)", attempt, self.retries, url, delay, last)
                self._sleep(delay)
            try:
                data = self._attempt(url)
            except _Retryable as exc:
                last = exc
                continue
            except _Final as exc:
                return FetchResult(exc.status, str(exc), seconds=time.perf_counter() - start)
            except Exception as exc:  # anything unexpected is a per-sample error, not a crash
                return FetchResult("error:download", f"{url}: {type(exc).__name__}: {exc}",
                                   seconds=time.perf_counter() - start)
            return FetchResult("ok", data=data, seconds=time.perf_counter() - start)
        assert last is not None
        return FetchResult(last.status, f"{last} (after {self.retries + 1} attempts)",
                           seconds=time.perf_counter() - start)

    def _attempt(self, url: str) -> bytes:
        deadline = time.monotonic() + self.total_timeout
        try:
            response = self.session.get(url, timeout=self.timeout, stream=True, allow_redirects=True)
        except requests.exceptions.TooManyRedirects as exc:
            raise _Final("error:too_many_redirects", f"{url}: more than {self.max_redirects} redirects") from exc
        except requests.exceptions.Timeout as exc:
            raise _Retryable("error:timeout", f"{url}: {type(exc).__name__}") from exc
        except requests.exceptions.ConnectionError as exc:
            raise _Final("error:connection", f"{url}: {exc}") from exc
        with response:
            for hop in (*response.history, response):
                offending = opted_out(_header_values(hop, "X-Robots-Tag"), self.user_agent_token,
                                      self.opt_out_directives)
                if offending is not None:
                    raise _Final("rejected:opt_out", f"{hop.url}: X-Robots-Tag {offending!r}")
            if response.status_code >= 500:
                raise _Retryable("error:http_5xx", f"{url}: HTTP {response.status_code}")
            if response.status_code != 200:
                raise _Final(f"error:http_{response.status_code}", f"{url}: HTTP {response.status_code}")
            content_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
            if not content_type.startswith("image/"):
                raise _Final("rejected:content_type", f"{url}: Content-Type {content_type or 'missing'!r}, expected image/*")
            declared = response.headers.get("Content-Length")
            expected = int(declared) if declared and declared.isdigit() else None
            if expected is not None and expected > self.max_bytes:
                raise _Final("rejected:too_large", f"{url}: Content-Length {expected} > max_bytes {self.max_bytes}")
            chunks: list[bytes] = []
            received = 0
            try:
                for chunk in response.iter_content(_CHUNK):
                    received += len(chunk)
                    if received > self.max_bytes:
                        raise _Final("rejected:too_large", f"{url}: body exceeds max_bytes {self.max_bytes}")
                    if time.monotonic() > deadline:
                        raise _Retryable("error:timeout", f"{url}: body not complete after {self.total_timeout}s")
                    chunks.append(chunk)
            except requests.exceptions.ChunkedEncodingError as exc:
                raise _Final("error:truncated", f"{url}: connection closed mid-body ({exc})") from exc
            except requests.exceptions.ConnectionError as exc:
                if "timed out" in str(exc).lower():
                    raise _Retryable("error:timeout", f"{url}: read timed out") from exc
                raise _Final("error:truncated", f"{url}: {exc}") from exc
            if expected is not None and received != expected:
                raise _Final("error:truncated", f"{url}: got {received} of {expected} bytes")
            return b"".join(chunks)


def _header_values(response: requests.Response, name: str) -> list[str]:
    """Every value of a possibly repeated header, unjoined.

    ``requests`` joins repeated headers with ``", "``, which would merge ``a: noai`` and
    ``b: noindex`` into one ambiguous value; urllib3's header dict keeps them apart.
    """
    raw_headers = getattr(response.raw, "headers", None)
    if raw_headers is not None and hasattr(raw_headers, "getlist"):
        return list(raw_headers.getlist(name))
    value = response.headers.get(name)
    return [] if value is None else [value]
