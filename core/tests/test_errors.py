"""Errors are JSON, with no SQL, driver or traceback text, and start-up refuses bad config."""

import os

import pytest
from django.db import OperationalError

from users import selectors

from .servers import manage


@pytest.mark.django_db
def test_an_unexpected_error_is_a_json_500_without_details(staff_client, monkeypatch):
    def broken():
        raise RuntimeError("SELECT secret FROM somewhere")

    monkeypatch.setattr(selectors, "user_stats", broken)
    response = staff_client.get("/users/stats")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}
    assert b"SELECT" not in response.content


@pytest.mark.django_db
def test_a_lost_database_connection_is_a_json_503(staff_client, monkeypatch):
    def unreachable():
        raise OperationalError('connection to server at "127.0.0.1" failed')

    monkeypatch.setattr(selectors, "user_stats", unreachable)
    response = staff_client.get("/users/stats")
    assert response.status_code == 503
    assert "127.0.0.1" not in response.content.decode()


def test_an_unrouted_path_is_a_json_404(client):
    response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


# Passes the secret-key rule (core.secret_key): long, varied, never published.
STRONG_KEY = "tests-only-strong-key-9f8e7d6c5b4a39281706f5e4d3c2b1a0zyxwvu"


def settings_env(**variables):
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SECRET_KEY", "DJANGO_DEBUG"}}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env["DJANGO_ENV_FILE"] = os.devnull  # a developer's .env must not supply a key
    return {**env, **variables}


def test_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = manage("check", env=settings_env())
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "DJANGO_SECRET_KEY is not set: export it or put it in .env (`make run` writes a local "
        "one for you)."
    ]


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("compose-local-only-change-me-0a9f3c5e7b1d4f6a8c2e", "is a published placeholder"),
        ("change-me-to-a-long-random-string", "is a published placeholder"),
        ("a-key-of-forty-nine-characters-is-just-too-short!", "is 49 characters long"),
    ],
)
def test_refuses_to_start_with_a_published_or_weak_key_when_debug_is_off(key, problem):
    result = manage("check", env=settings_env(DJANGO_SECRET_KEY=key))
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"DJANGO_SECRET_KEY {problem}")
    assert "secrets.token_urlsafe(50)" in line
    assert key not in line  # a real but short key is not echoed to the logs


def test_debug_mode_without_a_key_refuses_to_start_too():
    # A built-in fallback key would be published with the code: anyone could sign tokens.
    result = manage("check", env=settings_env(DJANGO_DEBUG="1"))
    assert result.returncode == 1
    assert result.stderr.strip().startswith("DJANGO_SECRET_KEY is not set")


def test_debug_mode_takes_any_key():
    env = settings_env(DJANGO_DEBUG="1", DJANGO_SECRET_KEY="change-me")
    assert manage("check", env=env).returncode == 0


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "USER_FIELDS_MAX_AGE",
            "31",
            "USER_FIELDS_MAX_AGE=31 is outside 0..30: a removed right (deactivation, "
            "demotion, deletion) must stop working within 30 seconds.",
        ),
        (
            "USER_FIELDS_MAX_AGE",
            "-1",
            "USER_FIELDS_MAX_AGE=-1 is outside 0..30: a removed right (deactivation, "
            "demotion, deletion) must stop working within 30 seconds.",
        ),
        (
            "USER_CACHE_TTL",
            "300",
            "USER_CACHE_TTL is no longer read: unset it and set USER_FIELDS_MAX_AGE "
            "(seconds, at most 30) if the default of 30 does not suit you.",
        ),
    ],
)
def test_refuses_to_start_with_a_user_fields_bound_over_30_seconds(variable, value, message):
    env = settings_env(**{variable: value}, DJANGO_SECRET_KEY=STRONG_KEY)
    result = manage("check", env=env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [message]
