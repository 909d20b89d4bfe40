"""Issue 16's black-box attacks, replayed against the running stack.

Each test starts gunicorn with gunicorn.conf.py on a free loopback port, against the
test database and the tests' Redis database, and attacks it over HTTP as the issue's
report did. Where passwords are checked the settings are config.test_settings: the
project's settings with the MD5 password hasher, so that a guess costs microseconds
instead of the 3 s that PBKDF2 takes on a shared 2-core machine; nothing else these
tests touch differs. Item 2's refusal runs config.settings itself.
"""

import json
import os
import re
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
import yaml
from django.db import connections

from users.tests.factories import TEST_PASSWORD, UserFactory

from .servers import BASE_DIR, GUNICORN, Gunicorn, fetch, free_port, get, service_env

pytestmark = pytest.mark.django_db(transaction=True)

JSON = {"Content-Type": "application/json"}


def live_env(**overrides):
    return service_env(DJANGO_SETTINGS_MODULE="config.test_settings", **overrides)


def post_json(server, path, body, headers=None):
    """(status, headers, decoded JSON body or None) of one POST."""
    status, response_headers, raw = fetch(
        f"{server.base}{path}", {**JSON, **(headers or {})}, data=json.dumps(body).encode()
    )
    try:
        decoded = json.loads(raw)
    except ValueError:
        decoded = None
    return status, response_headers, decoded


def in_parallel(times, call):
    """Results of `call(i)` for i in range(times), all released at the same instant."""
    start = threading.Barrier(times)

    def run(i):
        try:
            start.wait(timeout=10)
            return call(i)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=times) as pool:
        return list(pool.map(run, range(times)))


class TestRefreshRotation:
    """Item 4: eight parallel refreshes of one token gave four 200s and four live chains."""

    def test_eight_parallel_refreshes_of_one_token_give_one_new_chain(self, tmp_path):
        user = UserFactory()
        env = live_env(API_THROTTLE_AUTH="1000/min", GUNICORN_THREADS="4")
        with Gunicorn(env, tmp_path / "gunicorn.log") as server:
            status, _, tokens = post_json(
                server, "/auth/token", {"email": user.email, "password": TEST_PASSWORD}
            )
            assert status == 200, tokens
            stolen = tokens["refresh"]

            results = in_parallel(
                8, lambda _: post_json(server, "/auth/token/refresh", {"refresh": stolen})
            )

            statuses = sorted(status for status, _, _ in results)
            assert statuses == [200] + [401] * 7, results
            assert {body["detail"] for status, _, body in results if status == 401} == {
                "Token is blacklisted"
            }
            winner = next(body for status, _, body in results if status == 200)
            status, _, _ = post_json(server, "/auth/token/refresh", {"refresh": winner["refresh"]})
            assert status == 200
            status, _, _ = post_json(server, "/auth/token/refresh", {"refresh": stolen})
            assert status == 401


class TestSignInPerAccount:
    """Item 3: twenty addresses guessing one account's password were never limited."""

    def test_twenty_addresses_guessing_one_password_are_limited_by_the_account(self, tmp_path):
        victim, bystander = UserFactory(), UserFactory()
        # Behind one trusted proxy, as deployed: each guess comes from another address.
        env = live_env(API_TRUSTED_PROXIES="1")
        with Gunicorn(env, tmp_path / "gunicorn.log") as server:

            def sign_in(email, password, address):
                return post_json(
                    server,
                    "/auth/token",
                    {"email": email, "password": password},
                    {"X-Forwarded-For": address},
                )

            guesses = [sign_in(victim.email, f"guess-{i}", f"198.51.100.{i}") for i in range(20)]
            assert [status for status, _, _ in guesses] == [401] * 10 + [429] * 10
            _, headers, body = guesses[-1]
            assert 1 <= int(headers["Retry-After"]) <= 15 * 60
            assert "throttled" in body["detail"]
            # The owner waits for the window too (the documented trade-off)...
            assert sign_in(victim.email, TEST_PASSWORD, "192.0.2.7")[0] == 429
            # ...while the same addresses still reach every other account.
            assert sign_in(bystander.email, TEST_PASSWORD, "198.51.100.3")[0] == 200


class TestPublishedSecretKey:
    """Item 2: docker-compose.yml shipped a default key (which signs every JWT), on a port
    published on every interface."""

    OLD_COMPOSE_KEY = "compose-local-only-change-me-0a9f3c5e7b1d4f6a8c2e"

    def test_gunicorn_refuses_to_start_with_the_key_compose_used_to_ship(self, tmp_path):
        env = service_env(DJANGO_SECRET_KEY=self.OLD_COMPOSE_KEY, PORT=str(free_port()))
        result = subprocess.run(  # noqa: S603 - our own gunicorn and config
            [str(GUNICORN), "-c", "gunicorn.conf.py", "config.wsgi"],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode != 0
        assert "DJANGO_SECRET_KEY is a published placeholder" in result.stderr
        assert "Booting worker" not in result.stderr  # refused before any worker

    @staticmethod
    def compose(*args, env_file, **variables):
        if shutil.which("docker-compose"):
            command = ["docker-compose"]
        elif subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:  # noqa: S607
            command = ["docker", "compose"]
        else:
            pytest.skip("neither docker-compose nor docker compose is installed")
        environment = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DJANGO_SECRET_KEY", "WEB_BIND", "WEB_PORT"}
        }
        return subprocess.run(  # noqa: S603
            [*command, "--env-file", str(env_file), *args],
            cwd=BASE_DIR,
            env={**environment, **variables},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def test_compose_has_no_default_key_and_publishes_on_loopback(self, tmp_path):
        # An empty env file: a developer's .env must not supply the key.
        empty = tmp_path / "empty.env"
        empty.write_text("")
        refused = self.compose("config", "-q", env_file=empty)
        assert refused.returncode != 0
        assert "set DJANGO_SECRET_KEY" in refused.stdout + refused.stderr

        key = "x" * 50  # compose only passes it on; the app would refuse this one
        config = self.compose("config", env_file=empty, DJANGO_SECRET_KEY=key)
        assert config.returncode == 0, config.stderr
        assert self.published_on(config.stdout) == ["127.0.0.1"]

        everywhere = self.compose("config", env_file=empty, DJANGO_SECRET_KEY=key, WEB_BIND="::")
        assert self.published_on(everywhere.stdout) == ["::"]

    @staticmethod
    def published_on(config_yaml):
        """The host addresses the web service's ports bind, from `compose config`."""
        ports = yaml.safe_load(config_yaml)["services"]["web"]["ports"]
        # docker-compose 1.29 prints "127.0.0.1:8000:8000/tcp", Compose v2 a mapping.
        return [
            port["host_ip"] if isinstance(port, dict) else port.rsplit(":", 2)[0] for port in ports
        ]


class AdminLoginPage:
    """The admin's login form over HTTP, as a browser fills it: CSRF cookie and token."""

    def __init__(self, server):
        self.url = f"{server.base}/admin/login/?next=/admin/"
        status, headers, body = get(self.url)
        assert status == 200, body
        self.cookie = re.search(r"csrftoken=([^;]+)", headers["Set-Cookie"]).group(1)
        self.token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)

    def log_in(self, email, password):
        """(status, headers, HTML) of one sign-in."""
        form = {"csrfmiddlewaretoken": self.token.decode(), "username": email}
        status, headers, body = fetch(
            self.url,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={self.cookie}",
            },
            data=urlencode({**form, "password": password}).encode(),
        )
        return status, headers, body.decode()


class TestAdminLogin:
    """Item 1: 30 wrong admin passwords from one address, then the right one signed in."""

    def test_thirty_wrong_passwords_then_the_right_one_is_refused(self, tmp_path):
        staff = UserFactory(is_staff=True, is_superuser=True)
        with Gunicorn(live_env(), tmp_path / "gunicorn.log") as server:
            page = AdminLoginPage(server)
            wrong = [page.log_in(staff.email, f"guess-{i}") for i in range(30)]
            assert [status for status, _, _ in wrong] == [200] * 10 + [429] * 20
            assert "Please enter the correct email" in wrong[0][2]
            status, headers, html = page.log_in(staff.email, TEST_PASSWORD)
        assert status == 429
        assert 1 <= int(headers["Retry-After"]) <= 15 * 60
        assert "Too many sign-in attempts" in html
        assert "sessionid" not in headers.get("Set-Cookie", "")

    def test_while_redis_is_down_the_admin_login_refuses_everyone(self, tmp_path, private_redis):
        staff = UserFactory(is_staff=True, is_superuser=True)
        env = live_env(REDIS_URL=f"redis://127.0.0.1:{private_redis.port}/0")
        with Gunicorn(env, tmp_path / "gunicorn.log") as server:
            page = AdminLoginPage(server)
            private_redis.kill()
            status, headers, html = page.log_in(staff.email, TEST_PASSWORD)
            assert status == 503
            assert "unavailable for a moment" in html
            assert "sessionid" not in headers.get("Set-Cookie", "")
            # The API's sign-in fails open, as documented.
            status, _, _ = post_json(
                server, "/auth/token", {"email": staff.email, "password": TEST_PASSWORD}
            )
            assert status == 200
