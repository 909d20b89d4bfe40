"""The health check that asks the socket: fit connections pass, closed ones are replaced."""

import time

import psycopg
import pytest
from django.db import connections

pytestmark = pytest.mark.django_db


@pytest.fixture
def wrapper():
    """A connection of its own, outside the test's transaction, checked as in production."""
    own = connections.create_connection("default")
    own.settings_dict["CONN_HEALTH_CHECKS"] = True
    own.ensure_connection()
    yield own
    own.close()


def terminate(backend_pid):
    dsn = connections["default"].get_connection_params()
    dsn.pop("cursor_factory", None)
    dsn.pop("context", None)
    with psycopg.connect(**dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend_pid])


def wait_until_unusable(wrapper, seconds=5.0):
    deadline = time.monotonic() + seconds
    while wrapper.is_usable():
        assert time.monotonic() < deadline, "a terminated connection still looks usable"
        time.sleep(0.01)


def backend_pid(wrapper):
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_the_backend_is_ours():
    assert connections["default"].__class__.__module__ == "core.postgresql.base"


def test_checking_an_idle_connection_sends_the_server_nothing(wrapper):
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 'the last query before the checks'")
    for _ in range(100):
        assert wrapper.is_usable()
    # Django's stock check would have left `SELECT 1` as this backend's last query.
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT query FROM pg_stat_activity WHERE pid = %s",
            [wrapper.connection.info.backend_pid],
        )
        assert cursor.fetchone()[0] == "SELECT 'the last query before the checks'"


def test_a_connection_the_server_closed_is_replaced_before_use(wrapper):
    pid = backend_pid(wrapper)
    terminate(pid)
    wait_until_unusable(wrapper)
    # What Django does at the start of each request, then on the request's first query.
    wrapper.health_check_done = False
    assert backend_pid(wrapper) != pid


def test_a_connection_in_a_failed_transaction_is_not_usable(wrapper):
    raw = wrapper.connection
    raw.autocommit = False
    with pytest.raises(psycopg.errors.DivisionByZero):
        raw.execute("SELECT 1 / 0")
    assert not wrapper.is_usable()
    raw.rollback()
    assert wrapper.is_usable()


def test_a_closed_connection_is_not_usable(wrapper):
    wrapper.connection.close()
    assert not wrapper.is_usable()


def test_without_poll_it_falls_back_to_djangos_check(wrapper, monkeypatch):
    monkeypatch.setattr("core.postgresql.base.CAN_POLL", False)
    assert wrapper.is_usable()
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT query FROM pg_stat_activity WHERE pid = %s",
            [wrapper.connection.info.backend_pid],
        )
        assert cursor.fetchone()[0] == "SELECT 1"
