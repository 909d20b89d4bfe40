"""Throwaway servers that a test or a benchmark starts, owns and stops itself."""

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import redis
from django.db import connection


def point_cache_at(settings, port: int) -> None:
    """Point the default cache at a Redis on `port`, with a short breaker pause."""
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        }
    }
    settings.CACHE_BREAKER_SECONDS = 0.3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A throwaway redis-server on its own port, owned by one test.

    With `directory`, it keeps its data in `directory/dump.rdb`, written only when asked
    (`save`, or `snapshot` to keep a copy) and read back when it starts: `restore`
    restarts it from an older snapshot, as an operator's restore or a failover to a
    replica that missed the latest writes would.
    """

    DUMP = "dump.rdb"

    def __init__(self, port: int, directory: Path | None = None):
        self.port = port
        self.directory = directory
        self.process = None

    def start(self):
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed for these tests"
        storage = []
        if self.directory:
            storage = ["--dir", str(self.directory), "--dbfilename", self.DUMP]
        self.process = subprocess.Popen(  # noqa: S603 - a fixed local binary
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--logfile", os.devnull, *storage],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                client.ping()
                return
            except (redis.ConnectionError, redis.BusyLoadingError):
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def client(self, db: int = 0) -> redis.Redis:
        """A plain client of this server, to look at or change its keys directly."""
        return redis.Redis(port=self.port, db=db, socket_timeout=5)

    def kill(self):
        self.process.kill()
        self.process.wait(timeout=10)

    def freeze(self):
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.process.send_signal(signal.SIGCONT)

    def flush(self):
        """Lose every key, as a restart without persistence does."""
        self.client().flushall()

    def snapshot(self, path: Path) -> Path:
        """SAVE now and keep a copy of the dump at `path`."""
        assert self.directory, "start it with a directory to take snapshots"
        self.client().save()
        shutil.copyfile(self.directory / self.DUMP, path)
        return path

    def restore(self, path: Path) -> None:
        """Kill the server and start it again from the snapshot at `path`."""
        self.thaw()
        self.kill()
        shutil.copyfile(path, self.directory / self.DUMP)
        self.start()


BASE_DIR = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def service_env(**overrides):
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_ENV_FILE": os.devnull,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_DEBUG": "0",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    env.update(overrides)
    return env


def manage(*args, env):
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hand redirects back to the test instead of following them."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(NoRedirect)


def fetch(url, headers=None, data=None, method=None, timeout=10):
    """(status, headers, body) of one request, redirects not followed, errors included."""
    request = urllib.request.Request(  # noqa: S310 - loopback test servers only
        url, headers=headers or {}, data=data, method=method
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def get(url, headers=None):
    return fetch(url, headers)


class Gunicorn:
    """gunicorn -c gunicorn.conf.py config.wsgi, on a free port, logging to a file."""

    def __init__(self, env, log_path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = {"WEB_CONCURRENCY": "2", **env, "PORT": str(self.port)}

    def __enter__(self):
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in __exit__
        self.process = subprocess.Popen(  # noqa: S603
            [str(GUNICORN), "-c", "gunicorn.conf.py", "config.wsgi"],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        for _ in range(200):
            try:
                if get(f"{self.base}/healthz")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.05)
        self.__exit__()
        raise RuntimeError(f"gunicorn did not start:\n{Path(self.log_path).read_text()}")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()

    def log_lines(self):
        return Path(self.log_path).read_text().splitlines()


class TcpProxy:
    """A loopback TCP proxy in front of a real server, which a test can cut and restore.

    `cut()` closes every proxied connection and stops listening, so the client sees its
    open connections die and new ones refused, as when a database host goes away;
    `blackhole()` also kills the open connections but then accepts new ones and never
    answers, as a host that drops packets does; `restore()` forwards again on the same
    port.
    """

    def __init__(self, target_port: int, target_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.port = free_port()
        self.connections_made = 0
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self._answering = True
        self._acceptor = None

    def start(self):
        self._answering = True
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.05)
        self._listening.set()
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._acceptor.start()
        return self

    def restore(self):
        """Forward again, on the same port (held unanswered connections are dropped)."""
        if self._listening.is_set():
            self.cut()
        return self.start()

    def _accept(self, listener):
        with listener:
            while self._listening.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                client.settimeout(None)
                if not self._answering:
                    with self._lock:
                        self._sockets.add(client)  # held open, never answered
                    continue
                try:
                    upstream = socket.create_connection(self.target, timeout=5)
                except OSError:
                    client.close()
                    continue
                upstream.settimeout(None)
                with self._lock:
                    self._sockets.update((client, upstream))
                    self.connections_made += 1
                for src, dst in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                self._drop(sock)

    def _drop(self, sock):
        with self._lock:
            self._sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def cut(self):
        """Refuse new connections and kill the open ones."""
        self._listening.clear()
        if self._acceptor is not None:
            self._acceptor.join(timeout=5)
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._drop(sock)

    stop = cut

    def blackhole(self):
        """Kill the open connections; accept new ones but never answer them."""
        self.cut()
        self.start()
        self._answering = False
