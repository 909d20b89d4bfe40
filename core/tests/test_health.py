"""Liveness and readiness probes."""

import pytest

from core import health

from .servers import free_port


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
def test_readyz_names_the_cache_when_it_is_down(client, settings):
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}
    }
    response = client.get("/readyz/")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "cache": "failed"},
    }


@pytest.mark.django_db
def test_readyz_reports_a_check_that_overruns_its_deadline(client, settings, monkeypatch):
    import threading

    release = threading.Event()
    settings.READINESS_TIMEOUT = 0.2
    monkeypatch.setattr(health, "_cache_answers", lambda: release.wait(5))
    try:
        response = client.get("/readyz")
    finally:
        release.set()
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "timeout"


def test_probes_need_no_credentials_and_are_not_throttled(client):
    for _ in range(20):
        assert client.get("/healthz").status_code == 200
