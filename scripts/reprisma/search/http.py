"""Polite HTTP for the capture: one session, retries with backoff, a rate limit shared by processes.

Retries of HTTP errors and refused connections are urllib3's ``Retry`` (it honours
``Retry-After``); a response whose body breaks off or fails its check is re-requested by
``tenacity``. The rate limit is a slot file guarded by ``fcntl.flock``, so every job of a
parallel Snakemake run that talks to the same service shares one budget.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sys
import time
from pathlib import Path

import requests
import tenacity
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

import reprisma

log = logging.getLogger("reprisma.search")

RETRY_STATUSES = (429, 500, 502, 503, 504)


class ServiceError(RuntimeError):
    """The service answered, but not with something usable (after all retries)."""


class BadBody(ServiceError):
    """A response whose body did not pass its check; retried, then reported."""


def make_session(total_retries: int = 6, backoff: float = 0.5) -> requests.Session:
    retry = Retry(
        total=total_retries,
        connect=total_retries,
        read=total_retries,
        status=total_retries,
        backoff_factor=backoff,
        backoff_max=60,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=None,  # E-utilities POSTs are idempotent searches
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = f"reprisma/{reprisma.__version__} (+systematic-review capture)"
    return session


class RateLimiter:
    """At most ``rate`` requests per second across every process using the same slot file."""

    # 10% headroom: requests spaced exactly 1/rate apart put rate+1 of them into some 1-second
    # window once clocks jitter, and NCBI counts per window.
    HEADROOM = 1.1

    def __init__(self, rate: float, slot_file: Path | None = None):
        self.interval = self.HEADROOM / rate
        self.slot_file = Path(slot_file) if slot_file else None
        self._next = 0.0

    def wait(self) -> None:
        if self.slot_file is None:
            now = time.monotonic()
            delay = max(0.0, self._next - now)
            self._next = max(now, self._next) + self.interval
        else:
            self.slot_file.parent.mkdir(parents=True, exist_ok=True)
            with open(self.slot_file, "a+") as f:
                fcntl.flock(f, fcntl.LOCK_EX)
                f.seek(0)
                text = f.read().strip()
                now = time.time()  # wall clock: shared between processes
                nxt = float(text) if text else 0.0
                delay = max(0.0, nxt - now)
                f.seek(0)
                f.truncate()
                f.write(repr(max(now, nxt) + self.interval))
                f.flush()
                fcntl.flock(f, fcntl.LOCK_UN)
        if delay:
            time.sleep(delay)


_BODY_RETRY = tenacity.retry(
    retry=tenacity.retry_if_exception_type((BadBody, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)),
    stop=tenacity.stop_after_attempt(5),
    wait=tenacity.wait_exponential(multiplier=0.5, max=30),
    reraise=True,
    before_sleep=lambda state: log.warning("retrying after: %s", state.outcome.exception()),
)


class HttpClient:
    """GET/POST with retries, a rate limit and a body check supplied by the caller."""

    def __init__(self, rate: float, slot_file: Path | None = None, timeout: float = 120.0,
                 session: requests.Session | None = None):
        self.session = session or make_session()
        self.limiter = RateLimiter(rate, slot_file)
        self.timeout = timeout

    def request(self, method: str, url: str, params: dict, check=None) -> bytes:
        @_BODY_RETRY
        def attempt() -> bytes:
            self.limiter.wait()
            if method == "POST":
                resp = self.session.post(url, data=params, timeout=self.timeout)
            else:
                resp = self.session.get(url, params=params, timeout=self.timeout)
            body = resp.content
            if resp.status_code >= 400:
                snippet = body[:300].decode("utf-8", "replace")
                raise ServiceError(f"{method} {url} -> HTTP {resp.status_code}: {snippet}")
            if check is not None:
                check(body)
            return body

        return attempt()


def progress(message: str) -> None:
    """One line of progress on stderr (Snakemake shows it in the job's log)."""
    print(f"reprisma: {message}", file=sys.stderr, flush=True)


def env_credentials() -> dict:
    """NCBI credentials from the environment; never written to a snapshot."""
    return {"email": os.environ.get("NCBI_EMAIL") or None, "api_key": os.environ.get("NCBI_API_KEY") or None}
