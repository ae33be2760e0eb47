"""Polite HTTP for the capture: one retry layer, deadlines, a rate limit shared by processes.

* **One retry layer: tenacity.** The ``requests`` session makes exactly one connection attempt
  per request (urllib3's own retries are off), and every attempt, first or retried, waits for
  the :class:`RateLimiter` first. What is retried (:func:`classify`): refused/reset connections,
  connect and read timeouts, 429/500/502/503/504, NCBI's 400 "External viewer error", a body
  that breaks off, misses its request deadline or fails the caller's check (truncated XML/JSON,
  an HTML error page, a transient NCBI ``<ERROR>``). Any other 4xx fails at once.
* **Bounded:** ``attempts`` tries per request; the wait before retry *n* is
  ``backoff * 2**(n-1)`` (at most ``backoff_max``) or the server's ``Retry-After`` when that is
  longer, capped at ``retry_after_cap``; a request gives up once its waits would pass
  ``retry_budget`` seconds. Each attempt has a connect and a read timeout and a total
  ``deadline`` for the whole answer, body included (a trickling body is cut off).
* **Visible:** every wait prints a progress line (``waiting 30 s: rate limited by NCBI
  (Retry-After)``).
* **Silent about secrets:** :func:`scrub` removes the API key and e-mail address (registered by
  :func:`env_credentials`) from every message this package prints or raises.

The policy comes from :class:`RetryPolicy` (defaults below; ``REPRISMA_HTTP_*`` environment
variables override them, see the README). The rate limit is a slot file guarded by
``fcntl.flock``, so every job of a parallel Snakemake run on the machine that talks to the same
service shares one budget.
"""

from __future__ import annotations

import email.utils
import fcntl
import math
import os
import re
import sys
import threading
import time
from dataclasses import dataclass, fields, replace
from pathlib import Path

import requests
import tenacity
from requests.adapters import HTTPAdapter

import reprisma
from reprisma.errors import ReprismaError

RETRY_STATUSES = (429, 500, 502, 503, 504)
# NCBI answers a transient back-end hiccup on efetch with HTTP 400 and this text.
TRANSIENT_400 = (b"External viewer error",)


class ServiceError(ReprismaError, RuntimeError):
    """The service answered, but not with something usable (after all retries)."""

    def __init__(self, message: str):
        super().__init__(scrub(message))


class BadBody(ServiceError):
    """A response whose body did not pass its check; retried, then reported."""


class Transient(ServiceError):
    """One failed attempt worth retrying; ``why`` is what the progress line says."""

    def __init__(self, message: str, why: str, retry_after: float | None = None):
        super().__init__(message)
        self.why = scrub(why)
        self.retry_after = retry_after


# -- secrets -------------------------------------------------------------------------------

_SECRETS: set[str] = set()
_SECRET_PARAM = re.compile(r"(?<![A-Za-z0-9_])((?:api_key|email)=)[^&\s'\"]+")


def register_secret(value: str | None) -> None:
    """Never print ``value``: :func:`scrub` replaces it from now on."""
    if value and len(value) >= 3:
        _SECRETS.add(value)


def scrub(text) -> str:
    """``text`` with every registered secret and every ``api_key=``/``email=`` value masked."""
    text = str(text)
    for s in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(s, "***")
    return _SECRET_PARAM.sub(r"\1***", text)


def env_credentials() -> dict:
    """NCBI credentials from the environment; never written to a snapshot, never printed."""
    creds = {"email": os.environ.get("NCBI_EMAIL") or None, "api_key": os.environ.get("NCBI_API_KEY") or None}
    register_secret(creds["api_key"])
    register_secret(creds["email"])
    return creds


def progress(message: str) -> None:
    """One line of progress on stderr (Snakemake shows it in the job's log); secrets scrubbed."""
    print(f"reprisma: {scrub(message)}", file=sys.stderr, flush=True)


# -- policy --------------------------------------------------------------------------------

@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6            # tries per request, the first included
    backoff: float = 1.0         # seconds before the first retry, doubled for each further one
    backoff_max: float = 60.0
    retry_after_cap: float = 120.0   # a longer Retry-After is waited only this long
    retry_budget: float = 600.0      # total seconds one request may spend waiting to retry
    connect_timeout: float = 10.0
    read_timeout: float = 60.0       # silence allowed between two packets
    deadline: float = 300.0          # a whole answer, body included

    ENV_PREFIX = "REPRISMA_HTTP_"

    @classmethod
    def from_env(cls, environ=None) -> "RetryPolicy":
        """Defaults overridden by ``REPRISMA_HTTP_<FIELD>`` (e.g. ``REPRISMA_HTTP_RETRY_AFTER_CAP=60``)."""
        environ = os.environ if environ is None else environ
        changes = {}
        for f in fields(cls):
            raw = environ.get(cls.ENV_PREFIX + f.name.upper())
            if raw is None or raw.strip() == "":
                continue
            try:
                value = int(raw) if f.type in ("int", int) else float(raw)
            except ValueError:
                raise ServiceError(f"{cls.ENV_PREFIX}{f.name.upper()}={raw!r}: expected a number") from None
            if value < 0 or (f.name == "attempts" and value < 1) or not math.isfinite(value):
                raise ServiceError(f"{cls.ENV_PREFIX}{f.name.upper()}={raw!r}: out of range")
            changes[f.name] = value
        return replace(cls(), **changes)

    def backoff_wait(self, retry: int) -> float:
        """Seconds before retry number ``retry`` (1 = the first retry), without Retry-After."""
        if self.backoff <= 0:
            return 0.0
        return min(self.backoff_max, self.backoff * 2 ** (retry - 1))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date); None if absent
    or malformed (then the normal backoff applies)."""
    if value is None:
        return None
    value = value.strip()
    if re.fullmatch(r"\d{1,12}", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


# -- rate limit ----------------------------------------------------------------------------

class RateLimiter:
    """At most ``rate`` requests per second across every process using the same slot file."""

    # 10% headroom: requests spaced exactly 1/rate apart put rate+1 of them into some 1-second
    # window once clocks jitter, and NCBI counts per window.
    HEADROOM = 1.1

    def __init__(self, rate: float, slot_file: Path | None = None):
        self.interval = self.HEADROOM / rate
        self.slot_file = Path(slot_file) if slot_file else None
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if self.slot_file is None:
            with self._lock:
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
                try:
                    nxt = float(text) if text else 0.0
                except ValueError:  # a slot file cut by a crash: start afresh
                    nxt = 0.0
                nxt = min(nxt, now + 60 * self.interval)  # never trust a slot far in the future
                delay = max(0.0, nxt - now)
                f.seek(0)
                f.truncate()
                f.write(repr(max(now, nxt) + self.interval))
                f.flush()
                fcntl.flock(f, fcntl.LOCK_UN)
        if delay:
            time.sleep(delay)


# -- client --------------------------------------------------------------------------------

def make_session() -> requests.Session:
    """A session that tries each request once: retrying is :class:`HttpClient`'s job alone."""
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = f"reprisma/{reprisma.__version__} (+systematic-review capture)"
    return session


_ERROR_ELEMENT = re.compile(rb"<ERROR>(.*?)</ERROR>", re.DOTALL)


def _excerpt(body: bytes, n: int = 120) -> str:
    """What an error answer says, short and scrubbed: NCBI's ``<ERROR>`` texts when there are
    any, else the start of the body."""
    errors = [" ".join(m.decode("utf-8", "replace").split()) for m in _ERROR_ELEMENT.findall(body[:20000])]
    if errors:
        text = "; ".join(errors)
        return scrub(text[:300] + ("…" if len(text) > 300 else ""))
    text = " ".join(body[:n].decode("utf-8", "replace").split())
    return scrub(text) + ("…" if len(body) > n else "")


class HttpClient:
    """GET/POST with one retry layer, a rate limit, deadlines and a body check by the caller."""

    def __init__(self, rate: float, slot_file: Path | None = None, *, service: str = "the service",
                 policy: RetryPolicy | None = None, session: requests.Session | None = None,
                 sleep=time.sleep):
        self.session = session or make_session()
        self.limiter = RateLimiter(rate, slot_file)
        self.policy = policy or RetryPolicy.from_env()
        self.service = service
        self.sleep = sleep
        self.attempts_made = 0  # every attempt sent (tests and benchmarks read it)

    # one attempt -------------------------------------------------------------------------
    def _read_body(self, resp: requests.Response, started: float, what: str) -> bytes:
        deadline = started + self.policy.deadline
        # a watchdog closes the connection at the deadline, so even a read blocked on a
        # trickle returns; the loop below then reports the deadline.
        timer = threading.Timer(max(0.0, deadline - time.monotonic()), resp.close)
        timer.daemon = True
        timer.start()
        chunks = []
        try:
            raw = resp.raw
            while True:
                chunk = raw.read1(1 << 16) if hasattr(raw, "read1") else raw.read(1 << 16)
                if time.monotonic() > deadline:
                    raise Transient(f"{what}: no complete answer within {self.policy.deadline:g} s",
                                    f"{self.service} sent its answer too slowly")
                if not chunk:
                    break
                chunks.append(chunk)
        except Transient:
            raise
        except Exception as e:  # noqa: BLE001 - urllib3/http.client errors of a broken body
            if time.monotonic() > deadline:
                raise Transient(f"{what}: no complete answer within {self.policy.deadline:g} s",
                                f"{self.service} sent its answer too slowly") from None
            raise Transient(f"{what}: the answer broke off ({type(e).__name__})",
                            f"the answer from {self.service} broke off") from None
        finally:
            timer.cancel()
            resp.close()
        body = b"".join(chunks)
        declared = resp.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) != len(body) \
                and not resp.headers.get("Content-Encoding"):
            raise Transient(f"{what}: the answer broke off ({len(body)} of {declared} bytes)",
                            f"the answer from {self.service} broke off")
        return body

    def _attempt(self, method: str, url: str, params: dict, check) -> bytes:
        try:
            return self._attempt_once(method, url, params, check)
        except Transient as e:
            if e.retry_after is None:  # a broken exchange: never reuse its connection
                self.session.close()
            raise

    def _attempt_once(self, method: str, url: str, params: dict, check) -> bytes:
        what = f"{method} {url}"
        self.limiter.wait()
        self.attempts_made += 1
        started = time.monotonic()
        timeout = (self.policy.connect_timeout, self.policy.read_timeout)
        try:
            if method == "POST":
                resp = self.session.post(url, data=params, timeout=timeout, stream=True)
            else:
                resp = self.session.get(url, params=params, timeout=timeout, stream=True)
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema) as e:
            raise ServiceError(f"{what}: not a usable service address ({type(e).__name__}); check "
                               "services.*.base_url") from None
        except requests.Timeout as e:
            kind = "connecting" if isinstance(e, requests.ConnectTimeout) else "waiting for an answer"
            raise Transient(f"{what}: timed out {kind}", f"{self.service} did not answer in time") from None
        except requests.RequestException as e:
            reason = _connection_reason(e)
            raise Transient(f"{what}: {reason}", f"{self.service}: {reason}") from None
        try:
            body = self._read_body(resp, started, what)
        except requests.RequestException as e:
            raise Transient(f"{what}: {_connection_reason(e)}", f"the answer from {self.service} broke off") from None
        status = resp.status_code
        if status in RETRY_STATUSES:
            why = f"rate limited by {self.service}" if status == 429 else f"{self.service} answered HTTP {status}"
            raise Transient(f"{what} -> HTTP {status}: {_excerpt(body)}", why,
                            retry_after=parse_retry_after(resp.headers.get("Retry-After")))
        if status == 400 and any(m in body for m in TRANSIENT_400):
            raise Transient(f"{what} -> HTTP 400: {_excerpt(body)}", f"{self.service} answered HTTP 400 (transient)")
        if status >= 400:
            raise ServiceError(f"{what} -> HTTP {status}: {_excerpt(body)}")
        if check is not None:
            try:
                check(body)
            except BadBody as e:
                raise Transient(f"{what}: {e}", f"{self.service} sent an unusable answer ({str(e)[:160]})") from None
        return body

    # the retry layer ---------------------------------------------------------------------
    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception()
        wait = self.policy.backoff_wait(state.attempt_number)
        ra = getattr(exc, "retry_after", None)
        if ra is not None:
            wait = max(wait, min(ra, self.policy.retry_after_cap))
        return wait

    def _stop(self, state: tenacity.RetryCallState) -> bool:
        if state.attempt_number >= self.policy.attempts:
            return True
        waited = state.idle_for  # seconds already spent waiting for this request
        return waited + (state.upcoming_sleep or 0.0) > self.policy.retry_budget

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception()
        wait = state.upcoming_sleep or 0.0
        source = " (Retry-After)" if getattr(exc, "retry_after", None) is not None else ""
        progress(f"waiting {wait:.3g} s: {exc.why}{source}; try {state.attempt_number + 1} of "
                 f"{self.policy.attempts}")

    def request(self, method: str, url: str, params: dict, check=None) -> bytes:
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(Transient),
            wait=self._wait, stop=self._stop, sleep=self.sleep,
            before_sleep=self._before_sleep, reraise=True)
        try:
            return retrying(self._attempt, method, url, params, check)
        except Transient as e:
            raise ServiceError(f"{e} (gave up after {self.attempts_made_for_message(retrying)}; "
                               f"try again later)") from None

    @staticmethod
    def attempts_made_for_message(retrying: tenacity.Retrying) -> str:
        n = retrying.statistics.get("attempt_number", 1)
        return f"{n} attempt{'s' if n != 1 else ''}"


def _connection_reason(e: Exception) -> str:
    text = str(e)
    for needle, reason in (("Connection refused", "connection refused"),
                           ("Connection reset", "connection reset"),
                           ("Name or service not known", "host name not found"),
                           ("Temporary failure in name resolution", "host name not found"),
                           ("RemoteDisconnected", "the server closed the connection"),
                           ("IncompleteRead", "the answer broke off"),
                           ("InvalidChunkLength", "the answer broke off")):
        if needle in text:
            return reason
    return f"connection failed ({type(e).__name__})"
