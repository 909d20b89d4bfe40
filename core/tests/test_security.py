"""Issue 16's black-box attacks, replayed against the running stack.

Each test starts gunicorn with gunicorn.conf.py on a free loopback port, against the
test database and the tests' Redis database, and attacks it over HTTP as the issue's
report did. The settings are config.test_settings: the project's settings with the MD5
password hasher, so that a guessed password costs microseconds instead of the 3 s that
PBKDF2 takes on a shared 2-core machine; nothing else that these tests touch differs.
"""

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from django.db import connections

from users.tests.factories import TEST_PASSWORD, UserFactory

from .servers import Gunicorn, fetch, get, service_env

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
