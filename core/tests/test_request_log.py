"""One structured log line per request, and the request id on every line of it."""

import json
import logging

import pytest

from core.request_log import RequestIdFilter

pytestmark = pytest.mark.django_db


def request_lines(caplog):
    return [r for r in caplog.records if r.name == "core.request"]


def test_one_line_per_request_with_its_fields(member_client, user, caplog):
    caplog.set_level(logging.INFO, logger="core.request")
    response = member_client.get("/users?limit=1", HTTP_X_REQUEST_ID="abc-123")
    (line,) = request_lines(caplog)
    assert line.method == "GET"
    assert line.path == "/users"
    assert line.status == 200
    assert line.user_id == user.pk
    assert line.request_id == "abc-123"
    assert line.duration_ms >= 0
    assert response["X-Request-ID"] == "abc-123"


def test_anonymous_and_failed_requests_are_logged_too(api_client, caplog):
    caplog.set_level(logging.INFO, logger="core.request")
    api_client.get("/users")
    api_client.get("/no/such/path")
    lines = request_lines(caplog)
    assert [(r.status, r.user_id) for r in lines] == [(401, None), (404, None)]


@pytest.mark.parametrize(
    "incoming", ["", "x" * 129, "bad id with spaces", "inject\nnewline", "ünïcode"]
)
def test_a_missing_or_insane_request_id_is_replaced(api_client, incoming, caplog):
    caplog.set_level(logging.INFO, logger="core.request")
    headers = {"HTTP_X_REQUEST_ID": incoming} if incoming else {}
    response = api_client.get("/healthz", **headers)
    generated = response["X-Request-ID"]
    assert generated != incoming
    assert len(generated) == 32
    assert request_lines(caplog)[0].request_id == generated


def test_other_log_lines_of_the_request_carry_its_id(member_client, settings, caplog):
    from .servers import free_port

    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}
    }
    caplog.set_level(logging.INFO)
    member_client.get("/users", HTTP_X_REQUEST_ID="req-42")
    cache_warning = next(r for r in caplog.records if r.name == "core.cache")
    assert cache_warning.request_id == "req-42"


def test_the_formatter_writes_json_with_the_request_id(settings):
    from logging.config import dictConfig

    dictConfig(settings.LOGGING)
    handler = logging.getLogger().handlers[0]
    record = logging.LogRecord("core.request", logging.INFO, __file__, 1, "request", (), None)
    record.status = 200
    RequestIdFilter().filter(record)
    line = json.loads(handler.formatter.format(record))
    assert line["message"] == "request"
    assert line["level"] == "INFO"
    assert line["status"] == 200
    assert "request_id" in line
