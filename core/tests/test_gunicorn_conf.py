"""gunicorn.conf.py's start-up check: with SO_REUSEPORT, a taken port still stops it."""

import runpy
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings

CONF = Path(settings.BASE_DIR) / "gunicorn.conf.py"


def server_for(port):
    return SimpleNamespace(cfg=SimpleNamespace(address=[("127.0.0.1", port)]))


@pytest.fixture
def on_starting(monkeypatch):
    monkeypatch.setenv("GUNICORN_REUSE_PORT", "1")
    return runpy.run_path(str(CONF))["on_starting"]


def test_a_port_another_server_listens_on_is_refused(on_starting):
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # as a gunicorn would
        other.bind(("127.0.0.1", 0))
        other.listen()
        with pytest.raises(SystemExit, match="is in use"):
            on_starting(server_for(other.getsockname()[1]))


def test_a_free_port_starts(on_starting):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    on_starting(server_for(port))  # nothing raised
