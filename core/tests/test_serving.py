"""What the image runs, run here: collectstatic, migrate, gunicorn with gunicorn.conf.py.

These start real processes (gunicorn on a free loopback port, against the test
database and the tests' Redis database) and stop them afterwards.
"""

import json
import time

import pytest
from django.utils.csp import build_policy
from rest_framework_simplejwt.tokens import AccessToken

from users.tests.factories import UserFactory

from .servers import Gunicorn, fetch, free_port, get, manage, service_env


@pytest.fixture
def static_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("static")
    result = manage(
        "collectstatic", "--noinput", "--verbosity", "0", env=service_env(STATIC_ROOT=str(root))
    )
    assert result.returncode == 0, result.stderr
    return root


@pytest.mark.django_db
def test_migrate_is_a_no_op_on_a_current_schema():
    result = manage("migrate", "--noinput", env=service_env())
    assert result.returncode == 0, result.stderr
    assert "No migrations to apply." in result.stdout


@pytest.mark.django_db
def test_gunicorn_serves_probes_docs_static_files_and_logs_one_json_line_per_request(
    static_root, tmp_path
):
    env = service_env(STATIC_ROOT=str(static_root))
    with Gunicorn(env, tmp_path / "gunicorn.log") as server:
        status, _, body = get(f"{server.base}/readyz")
        assert status == 200, body
        assert json.loads(body)["checks"] == {"database": "ok", "cache": "ok"}

        status, _, html = get(f"{server.base}/docs")
        assert status == 200
        assert (
            get(
                f"{server.base}/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
            )[0]
            == 200
        )
        assert get(f"{server.base}/static/admin/css/base.css")[0] == 200

        status, headers, _ = get(f"{server.base}/users", {"X-Request-ID": "trace-me-1"})
        assert status == 401
        assert headers["X-Request-ID"] == "trace-me-1"
        time.sleep(0.2)  # let the worker flush its log line
        lines = [json.loads(line) for line in server.log_lines() if line.startswith("{")]
    requests = [line for line in lines if line.get("message") == "request"]
    traced = [line for line in requests if line["request_id"] == "trace-me-1"]
    assert len(traced) == 1, requests
    assert traced[0] | {"time": None, "duration_ms": None} == traced[0] | {
        "time": None,
        "duration_ms": None,
        "method": "GET",
        "path": "/users",
        "status": 401,
        "user_id": None,
        "logger": "core.request",
        "level": "INFO",
    }
    # gunicorn's own access log is off: the app's line is the only one per request.
    assert not [line for line in server.log_lines() if '"GET /users' in line]


@pytest.mark.django_db
def test_an_unreachable_database_is_a_fast_json_503_and_readyz_names_it(tmp_path):
    env = service_env(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/nowhere",
        DATABASE_CONNECT_TIMEOUT="2",
    )
    with Gunicorn(env, tmp_path / "gunicorn.log") as server:
        status, _, body = get(f"{server.base}/readyz")
        assert status == 503
        assert json.loads(body)["checks"]["database"] == "failed"
        status, _, body = fetch(
            f"{server.base}/auth/token",
            {"Content-Type": "application/json"},
            data=b'{"email": "a@x.io", "password": "whatever1"}',
        )
        assert status == 503
        assert json.loads(body) == {"detail": "The database is unavailable; try again shortly."}


def test_deploy_check_passes_with_https_on_and_a_strong_key():
    # A deployment's own settings: HTTPS, its host, and a real mail server (Django 6.1's
    # deploy check refuses the console backend that `make run` prints emails with).
    env = service_env(
        DJANGO_HTTPS="1",
        DJANGO_ALLOWED_HOSTS="api.example.com",
        EMAIL_URL="smtp+tls://mailer:secret@smtp.example.com:587",
    )
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    without_https = manage("check", "--deploy", "--fail-level", "WARNING", env=service_env())
    assert without_https.returncode != 0  # the check is not vacuous


@pytest.mark.django_db
def test_https_mode_redirects_plain_http_but_not_probes_or_forwarded_https(tmp_path):
    env = service_env(DJANGO_HTTPS="1", FORWARDED_ALLOW_IPS="127.0.0.1")
    with Gunicorn(env, tmp_path / "gunicorn.log") as server:
        status, headers, _ = get(f"{server.base}/users")
        assert status == 301
        assert headers["Location"] == f"https://127.0.0.1:{server.port}/users"
        assert get(f"{server.base}/healthz")[0] == 200
        status, headers, _ = get(f"{server.base}/users", {"X-Forwarded-Proto": "https"})
        assert status == 401
        assert "max-age=31536000" in headers["Strict-Transport-Security"]


@pytest.mark.django_db(transaction=True)
def test_gunicorn_answers_json_nested_too_deeply_with_a_400_and_logs_no_error(tmp_path, settings):
    token = AccessToken.for_user(UserFactory())
    body = b"[" * 20_000 + b"]" * 20_000  # the 40 KB body
    # The tests' key, so that the server accepts the token signed here.
    env = service_env(DJANGO_SECRET_KEY=settings.SECRET_KEY)
    with Gunicorn(env, tmp_path / "gunicorn.log") as server:
        for path, credentials in [
            ("/auth/register", {}),
            ("/auth/token", {}),
            ("/posts", {"Authorization": f"Bearer {token}"}),
        ]:
            status, _, answer = fetch(
                f"{server.base}{path}",
                {"Content-Type": "application/json", **credentials},
                data=body,
            )
            assert (status, json.loads(answer)) == (
                400,
                {"detail": "JSON parse error - nested too deeply"},
            ), path
        time.sleep(0.2)  # let the workers flush their log lines
        lines = server.log_lines()
    assert not [line for line in lines if "RecursionError" in line or '"ERROR"' in line]


@pytest.mark.django_db(transaction=True)
def test_gunicorn_sends_no_store_on_tokens_and_each_pages_policy(static_root, tmp_path, settings):
    credentials = {"email": "headers@example.com", "password": "violet-Otter-42-lamp"}
    json_body = {"Content-Type": "application/json"}
    env = service_env(STATIC_ROOT=str(static_root))
    with Gunicorn(env, tmp_path / "gunicorn.log") as server:
        # Signed up through the server, so the password has the server's hasher.
        status, _, _ = fetch(
            f"{server.base}/auth/register",
            json_body,
            data=json.dumps({"name": "Headers", **credentials}).encode(),
        )
        assert status == 201
        status, headers, body = fetch(
            f"{server.base}/auth/token", json_body, data=json.dumps(credentials).encode()
        )
        assert status == 200
        assert "no-store" in headers["Cache-Control"]
        tokens = json.loads(body)
        status, headers, _ = fetch(
            f"{server.base}/auth/token/refresh",
            json_body,
            data=json.dumps({"refresh": tokens["refresh"]}).encode(),
        )
        assert status == 200
        assert "no-store" in headers["Cache-Control"]

        policies = {
            "/admin/login/": settings.SECURE_CSP,
            "/docs": settings.SWAGGER_UI_CSP,
            "/redoc": settings.REDOC_CSP,
        }
        for path, policy in policies.items():
            status, headers, _ = get(f"{server.base}{path}")
            assert (status, headers["Content-Security-Policy"]) == (200, build_policy(policy))
        # A bearer-token request takes the shortcut past the session middleware.
        status, headers, _ = get(
            f"{server.base}/users", {"Authorization": f"Bearer {tokens['access']}"}
        )
        assert status == 200
        assert headers["Content-Security-Policy"] == build_policy(settings.SECURE_CSP)
