"""Injectable faults for the emulators: deterministic, queued, reset-able.

Usage::

    emu.faults.queue(Fault(kind="http_status", status=503, times=2, path="efetch.fcgi"))
    emu.faults.queue(Fault(kind="drop_connection", path="/studies"))
    emu.faults.reset()

A fault applies to the next ``times`` requests whose path contains ``path`` (every path when
``path`` is None), after skipping the first ``after`` matching requests. Faults are consulted in
the order they were queued; at most one fault applies to a request. ``emu.faults.fired`` lists
``(kind, request path)`` for every fault that was applied, in order.

Kinds:

``http_status``      answer ``status`` (429, 500, 502, 503, ...) with a real-looking body for that
                     service and status (or ``body``), and ``Retry-After: retry_after`` for 429/503.
``drop_connection``  send the status line, headers (with the full Content-Length) and the first half
                     of the real body, then close the connection.
``truncate_body``    send only the first ``keep`` fraction (default 0.5) of the real body, with a
                     Content-Length that matches what is sent: the HTTP exchange is complete but the
                     XML/JSON is cut off.
``slow``             wait ``delay`` seconds, then answer normally.
``count_mismatch``   the response announces more than it serves: E-utilities esearch keeps the true
                     ``Count`` but leaves the last ``missing`` ids out of IdList and of the history
                     set (so efetch by WebEnv serves fewer); efetch leaves out the last ``missing``
                     articles; CT.gov ``totalCount`` is ``missing`` larger than the studies served.
``expire_webenv``    E-utilities forgets every WebEnv before answering, as when NCBI's history
                     server drops a session.
``trickle``          answer normally, but send the body ``chunk`` bytes at a time with ``delay``
                     seconds between pieces (each piece arrives within any read timeout; only a
                     deadline on the whole answer stops it).
``cycle_token``      CT.gov ``/studies``: the ``nextPageToken`` points back at the page just served
                     (a paging loop; the real API has been seen to repeat tokens).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

__all__ = ["Fault", "FaultPlan", "FAULT_KINDS"]

FAULT_KINDS = ("http_status", "drop_connection", "truncate_body", "slow", "count_mismatch", "expire_webenv",
               "trickle", "cycle_token")


@dataclass
class Fault:
    kind: str
    times: int = 1
    path: str | None = None
    status: int = 503
    delay: float = 0.0
    missing: int = 1
    keep: float = 0.5
    retry_after: int = 1
    body: bytes | str | None = None
    content_type: str | None = None
    after: int = 0
    chunk: int = 64

    def __post_init__(self):
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        if self.times < 1:
            raise ValueError("times must be >= 1")
        if self.missing < 1:
            raise ValueError("missing must be >= 1")
        if self.chunk < 1:
            raise ValueError("chunk must be >= 1")
        if not 0.0 <= self.keep < 1.0:
            raise ValueError("keep must be in [0, 1)")


@dataclass
class FaultPlan:
    """The queue of faults of one emulator (thread-safe)."""

    _queue: list = field(default_factory=list)
    fired: list = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def queue(self, fault: Fault) -> Fault:
        with self._lock:
            self._queue.append([fault, fault.times, fault.after])
        return fault

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.fired.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return [f for f, left, _ in self._queue if left > 0]

    def take(self, path: str) -> Fault | None:
        """The fault that applies to a request for ``path`` (consuming one of its ``times``)."""
        with self._lock:
            for entry in self._queue:
                fault, left, skip = entry
                if left <= 0 or (fault.path is not None and fault.path not in path):
                    continue
                if skip > 0:
                    entry[2] = skip - 1
                    continue
                entry[1] = left - 1
                self.fired.append((fault.kind, path))
                return fault
            self._queue[:] = [e for e in self._queue if e[1] > 0]
        return None
