"""Liveness and readiness probes, against really stopped servers."""

import threading

import pytest
from django.db import connection

from core import health

from .servers import TcpProxy, free_port


def test_healthz_touches_nothing(client, settings):
    # No django_db mark: any database access would raise. The cache points nowhere.
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}
    }
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_200_when_database_and_cache_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "cache": "ok"}}


@pytest.mark.django_db
def test_a_killed_cache_is_degraded_but_still_ready(client, private_redis):
    assert client.get("/readyz").json()["status"] == "ready"
    private_redis.kill()
    response = client.get("/readyz/")
    # The API serves every request from PostgreSQL without the cache.
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "cache": "failed"},
    }


@pytest.mark.django_db
def test_a_frozen_cache_is_degraded_but_still_ready(client, private_redis):
    private_redis.freeze()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["cache"] in {"failed", "timeout"}


@pytest.fixture
def database_proxy(monkeypatch):
    """PostgreSQL reached through a proxy the test can cut, for the readiness check only.

    The test's own connection is already open (in its transaction) and stays direct;
    each readiness check opens a new one, which goes through the proxy.
    """
    proxy = TcpProxy(int(connection.settings_dict["PORT"] or 5432)).start()
    monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
    monkeypatch.setitem(connection.settings_dict, "PORT", str(proxy.port))
    yield proxy
    proxy.cut()


@pytest.mark.django_db
def test_a_cut_database_is_unavailable_and_ready_again_once_back(client, database_proxy):
    assert client.get("/readyz").json()["status"] == "ready"
    database_proxy.cut()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "failed", "cache": "ok"},
    }
    database_proxy.restore()
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_database_and_cache_both_down_is_unavailable(client, database_proxy, private_redis):
    database_proxy.cut()
    private_redis.kill()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "failed", "cache": "failed"},
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "check", "status", "code"),
    [
        ("cache", "_cache_answers", "degraded", 200),
        ("database", "_database_answers", "unavailable", 503),
    ],
)
def test_a_check_that_overruns_its_deadline_is_named(
    client, settings, monkeypatch, name, check, status, code
):
    release = threading.Event()
    settings.READINESS_TIMEOUT = 0.2
    monkeypatch.setattr(health, check, lambda: release.wait(5))
    try:
        response = client.get("/readyz")
    finally:
        release.set()
    assert response.status_code == code
    assert response.json()["status"] == status
    assert response.json()["checks"][name] == "timeout"


def test_probes_need_no_credentials_and_are_not_throttled(client):
    for _ in range(20):
        assert client.get("/healthz").status_code == 200
