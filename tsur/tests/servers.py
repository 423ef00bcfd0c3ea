"""Servers a fault test owns, so it can kill and restart them without touching the machine's shared
PostgreSQL, Redis or Mosquitto (other suites run on those): a PostgreSQL cluster of its own
(initdb/pg_ctl, run as the `postgres` user when the tests run as root), a redis-server, a Mosquitto,
and the platform's own processes (gunicorn, the job worker, the telemetry consumer) started as
subprocesses against the test's database."""

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(condition, timeout=20.0, what="condition", every=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def need(binary: str, package: str) -> str:
    found = shutil.which(binary) or next(iter(glob.glob(binary)), None)
    if not found:
        raise AssertionError(f"{binary} is not installed: apt-get install {package}")
    return found


class Postgres:
    """A throw-away PostgreSQL cluster on a free port, trusting local connections. `restart()`
    stops it fast (every connection cut, as a crash or a failover would) and starts it again."""

    def __init__(self):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not bins:
            raise AssertionError("PostgreSQL server binaries are missing: apt-get install postgresql")
        self.bin = Path(bins[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="tsur-pg-"))
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None  # initdb refuses to run as root
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"
        )
        self.url = f"postgres://postgres@127.0.0.1:{self.port}"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60"
        )
        self._run(
            "pg_ctl", "-D", str(self.dir / "data"), "-o", options, "-l", str(self.dir / "log"), "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", mode, "-w", "stop")

    def cleanup(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # not running
        shutil.rmtree(self.dir, ignore_errors=True)

    def create(self, name: str) -> str:
        """An empty database here; its URL."""
        subprocess.run(
            [str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name],
            check=True,
            timeout=30,
        )
        return f"{self.url}/{name}"


class Redis:
    """A redis-server on a free port with its data in a temp dir (it saves on a clean shutdown)."""

    def __init__(self):
        self.binary = need("redis-server", "redis-server")
        self.dir = Path(tempfile.mkdtemp(prefix="tsur-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.dir),
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: listening(self.port), what=f"redis-server on port {self.port}")

    def kill(self) -> None:
        """Gone at once, and with it everything it held in memory (no persistence configured)."""
        self.process.kill()
        self.process.wait(timeout=10)

    def cleanup(self) -> None:
        if self.process and self.process.poll() is None:
            self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class Process:
    """One of the platform's processes (`tsur …`, gunicorn) in a session of its own, so it and its
    children can be killed together; its output goes to a file the test can show on failure."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path):
        self.args, self.env, self.log = args, env, log
        self.process = None

    def start(self) -> "Process":
        self.process = subprocess.Popen(
            self.args,
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def platform_env(database_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a platform process in a fault test: the test's database, files in the
    test's temp dir, the job queue in a separate process (not immediate)."""
    clean = {k: v for k, v in os.environ.items() if k not in {"TSUR_TESTING", "REDIS_URL", "DATABASE_URL"}}
    return {
        **clean,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "faults-" + "x" * 50,
        "DEBUG": "0",
        "TSUR_VAR_DIR": str(var_dir),
        "HUEY_IMMEDIATE": "0",
        "TSUR_NLP_MODEL": "",
        "LOG_LEVEL": "WARNING",
        # `tsur` is the venv's console script: without this it imports the installed checkout, not this one
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        # the test's webhook receiver listens on loopback, which outbound requests refuse otherwise
        "TSUR_ALLOWED_PRIVATE_NETWORKS": "127.0.0.1/32",
        **extra,
    }


class Receiver:
    """A service's webhook receiver over real HTTP. It counts a delivery as received only when its
    answer has reached the sender (the sender's socket still open after the answer was written), and
    can be told to hold requests (`hold`), so the test kills the sender in the middle of one."""

    def __init__(self):
        self.received: list[str] = []  # X-TSUR-Delivery of each request answered to a live sender
        self.arrived: list[str] = []  # of each request read, answered or not
        self.hold = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers["Content-Length"]))
                delivery = self.headers.get("X-TSUR-Delivery", "")
                receiver.arrived.append(delivery)
                if receiver.hold.is_set():
                    receiver.release.wait(30)
                try:
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(b"{}")
                    self.wfile.flush()
                    # a sender that died meanwhile has closed its end: peek tells it apart
                    self.connection.setblocking(False)
                    try:
                        gone = self.connection.recv(1, socket.MSG_PEEK) == b""
                    except BlockingIOError:
                        gone = False
                    if not gone:
                        receiver.received.append(delivery)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
