"""Shared HTTP machinery of the emulators: a loopback ThreadingHTTPServer in a background thread,
request recording (secrets redacted) and fault application."""

from __future__ import annotations

import socket
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .faults import Fault, FaultPlan

__all__ = ["Response", "RecordedRequest", "LoopbackEmulator", "REDACTED"]

REDACTED = "REDACTED"
SECRET_PARAMS = {"api_key"}


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    params: tuple[tuple[str, str], ...]  # query string then form body, api_key redacted
    client: str

    def param(self, name: str) -> str | None:
        for k, v in self.params:
            if k == name:
                return v
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    emulator: "LoopbackEmulator"  # set on the subclass

    def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
        pass

    def version_string(self):
        return self.emulator.server_header

    def _dispatch(self, method: str):
        url = urlsplit(self.path)
        params = parse_qsl(url.query, keep_blank_values=True)
        if method == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if raw and ctype in ("", "application/x-www-form-urlencoded"):
                params += parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
        self.emulator._handle(self, method, url.path, params)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")


class LoopbackEmulator:
    """Base class: start/stop, context manager, recorded requests, fault plan."""

    server_header = "BaseHTTP"
    base_path = "/"

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host = host
        self.port = port
        self.faults = FaultPlan()
        self.requests: list[RecordedRequest] = []
        self.errors: list[str] = []  # tracebacks of requests the emulator failed on (should stay empty)
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle
    def start(self):
        if self._server is not None:
            return self
        handler = type("Handler", (_Handler,), {"emulator": self})
        self._server = _Server((self.host, self.port), handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name=type(self).__name__,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def reset(self):
        """Forget recorded requests and queued faults."""
        with self._lock:
            self.requests.clear()
            self.errors.clear()
        self.faults.reset()

    # -- request handling
    def _record(self, method, path, params, client):
        red = tuple((k, REDACTED if k in SECRET_PARAMS else v) for k, v in params)
        with self._lock:
            self.requests.append(RecordedRequest(method, path, red, client))

    def _handle(self, handler: _Handler, method: str, path: str, params: list[tuple[str, str]]):
        client = handler.client_address[0]
        self._record(method, path, params, client)
        fault = self.faults.take(path)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
            fault = None
        try:
            if fault is not None and fault.kind == "http_status":
                resp = self.fault_response(fault, path, params, client)
            else:
                resp = self.route(method, path, params, client, fault)
        except Exception:  # an emulator bug: answer 500 and keep the traceback for the tests
            with self._lock:
                self.errors.append(traceback.format_exc())
            resp, fault = Response(500, b"reprisma emulator internal error", "text/plain"), None
        self._send(handler, resp, fault)

    def _send(self, handler: _Handler, resp: Response, fault: Fault | None):
        body = resp.body
        declared = len(body)
        if fault is not None and fault.kind == "truncate_body":
            body = body[: int(len(body) * fault.keep)]
            declared = len(body)
        elif fault is not None and fault.kind == "drop_connection":
            body = body[: len(body) // 2]
        try:
            handler.send_response(resp.status)
            handler.send_header("Content-Type", resp.content_type)
            handler.send_header("Content-Length", str(declared))
            for k, v in resp.headers:
                handler.send_header(k, v)
            if fault is not None and fault.kind == "drop_connection":
                handler.send_header("Connection", "close")
            handler.end_headers()
            if handler.command != "HEAD" and fault is not None and fault.kind == "trickle":
                handler.wfile.flush()
                for i in range(0, len(body), fault.chunk):
                    handler.wfile.write(body[i:i + fault.chunk])
                    handler.wfile.flush()
                    time.sleep(fault.delay)
            elif handler.command != "HEAD":
                handler.wfile.write(body)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True
            return
        if fault is not None and fault.kind == "drop_connection":
            handler.close_connection = True
            try:
                handler.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # -- to override
    def route(self, method, path, params, client, fault) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError

    def fault_response(self, fault: Fault, path, params, client) -> Response:  # pragma: no cover
        raise NotImplementedError
