"""The server every fake runs in, and the failures a test may ask of it."""

import json
import threading
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

FAILURES = ("rate", "token", "deleted", "network", "server")


class Drop(Exception):
    """Close the connection without an answer (a network error for the client)."""


class FakeNetwork:
    """One network's state and its answers. `handle(path, params)` returns (HTTP status, body);
    `fail(kind, method, times)` makes the next calls of a method (or of any, with "*") fail."""

    def __init__(self):
        self.lock = threading.RLock()
        self.failures: dict[str, deque] = defaultdict(deque)
        self.calls: list[tuple[str, dict]] = []
        self.deleted: set[str] = set()

    def fail(self, kind: str, method: str = "*", times: int = 1) -> None:
        if kind not in FAILURES:
            raise ValueError(kind)
        with self.lock:
            self.failures[method].extend([kind] * times)

    def take_failure(self, method: str) -> str | None:
        with self.lock:
            for key in (method, "*"):
                if self.failures[key]:
                    return self.failures[key].popleft()
        return None

    def handle(self, path: str, params: dict) -> tuple[int, object]:
        raise NotImplementedError


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # quiet: tests read the fake's `calls` instead
        pass

    def _params(self) -> dict:
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            body = self.rfile.read(length).decode("utf-8")
            if (self.headers.get("Content-Type") or "").startswith("application/json"):
                params.update(json.loads(body or "{}"))
            else:
                params.update(parse_qsl(body, keep_blank_values=True))
        return params

    def _answer(self):
        network = self.server.network
        try:
            status, body = network.handle(urlsplit(self.path).path, self._params())
        except Drop:
            self.close_connection = True
            self.connection.close()
            return
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = _answer
    do_POST = _answer


class FakeServer:
    """A fake network served on 127.0.0.1 at a free port: `with FakeServer(FakeVK()) as server:`
    gives `server.url` for the connector's base URL."""

    def __init__(self, network: FakeNetwork, port: int = 0):
        self.network = network
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.network = network
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="fake-network", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> "FakeServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
