"""gunicorn settings, all from the environment: `gunicorn -c gunicorn.conf.py config.wsgi`.

Defaults (chosen by measurement, see docs/PERFORMANCE.md): gthread workers, one per
core, two threads each. A second thread overlaps one request's PostgreSQL and Redis
round trips with another's Python at a fraction of a process's memory; more threads
only contend for the GIL (four: -8 % on writes, +2 % on cached reads).
"""

import multiprocessing
import os
import socket

bind = [f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"]
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# A request that runs longer than this is killed and its worker replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM, finish in-flight requests for up to this long before exiting.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Each worker listens on its own socket (SO_REUSEPORT) and the kernel spreads new
# connections between them. With one shared socket, whichever worker was first to
# accept could take nearly all of a few keep-alive clients (31 of 32 seen) and leave
# the other idle: 1,260 instead of ~1,850 requests/s, and 700-900 at 32 to 0
# (docs/PERFORMANCE.md). The cost: connections still queued on a worker that dies are
# reset, which is rare with recycling off (below). GUNICORN_REUSE_PORT=0 shares one,
# and is needed with sockets handed over by systemd or a USR2 upgrade.
reuse_port = os.environ.get("GUNICORN_REUSE_PORT", "1") == "1"


def on_starting(server):
    """Refuse settings the app cannot run with, and a port another server listens on.

    config.settings exits with one line when it cannot run (no DJANGO_SECRET_KEY, or a
    published one). Loaded here, in the master, that stops gunicorn; loaded only by the
    workers, each would exit as it boots and be re-spawned, forever. The settings are
    then read once, by the master, as with `preload_app`: a changed .env takes a
    restart, not a HUP.

    With SO_REUSEPORT a second gunicorn of the same user (a leftover deploy, a second
    `make run`) could bind the same port and silently take part of the traffic; a
    plain bind would have refused it, and so does this.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings

    settings.SECRET_KEY  # noqa: B018 - loads the settings, which exit if unusable
    if not reuse_port:
        return
    for address in server.cfg.address:
        if not isinstance(address, tuple):
            continue  # a unix socket path
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            # Allowed past connections in TIME_WAIT, refused by a listening socket.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address[:2])
            except OSError as exc:
                raise SystemExit(f"{address[0]}:{address[1]} is in use: {exc}") from None


# Workers are not recycled by default: their memory stays flat (the benchmark samples
# it), and at thousands of requests a second recycling every 10,000 requests re-imported
# the app every few seconds and left every keep-alive client on the surviving worker;
# measured, it cut a cached page from ~1,900 to 700-1,500 requests/s (docs/PERFORMANCE.md).
# GUNICORN_MAX_REQUESTS=N turns it on (with 10 % jitter) should a leak ever appear.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
# The app logs one JSON line per request (core.request_log); gunicorn's own access
# log would repeat it, so it is off unless GUNICORN_ACCESS_LOG names a file or "-".
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Behind a proxy, X-Forwarded-* is trusted only from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# gunicorn 27's control socket (for `gunicornc`) is off unless a path is given: its
# default lives under $HOME, which a container's non-root user need not have.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket
