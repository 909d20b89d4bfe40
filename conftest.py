"""Fixtures shared by every app's tests."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from core import cache as api_cache
from core.tests.servers import PrivateRedis, free_port, point_cache_at
from users.authentication import verified_tokens
from users.tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache (the tests' own Redis database)."""
    api_cache.forget_failures()
    cache.clear()
    verified_tokens.clear()
    yield
    api_cache.forget_failures()
    cache.clear()


@pytest.fixture
def private_redis(settings, tmp_path):
    """A redis-server of the test's own (see core.tests.servers), the cache pointed at it.

    It keeps its snapshots in the test's temporary directory.
    """
    server = PrivateRedis(free_port(), directory=tmp_path)
    server.start()
    point_cache_at(settings, server.port)
    yield server
    if server.process.poll() is None:
        server.thaw()
        server.kill()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def member_client(user):
    """An API client signed in as the `user` fixture (a member)."""
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def staff_client(staff):
    """An API client signed in as the `staff` fixture."""
    client = APIClient()
    client.force_authenticate(staff)
    return client


@pytest.fixture
def assert_page_queries_flat(django_assert_max_num_queries):
    """Assert a list URL runs no more queries for a page of 100 than for a page of 1."""

    def check(client, url):
        sep = "&" if "?" in url else "?"
        with django_assert_max_num_queries(2) as one_row:
            assert client.get(f"{url}{sep}limit=1").status_code == 200
        with django_assert_max_num_queries(len(one_row.captured_queries)):
            response = client.get(f"{url}{sep}limit=100")
        assert len(response.json()["results"]) > 1, "the big page must hold several rows"

    return check


def pytest_terminal_summary(terminalreporter):
    """Print what the reliability suites measured, and keep it in artifacts/."""
    from core.tests import figures

    path = figures.write()
    if path is None:
        return
    terminalreporter.section("reliability figures")
    for suite, counts in figures.snapshot().items():
        terminalreporter.write_line(f"{suite}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    terminalreporter.write_line(f"written to {path}")


def client_for_role(role, member, staff) -> APIClient:
    """A client for one column of a role table: anonymous, the member, or staff."""
    if role == "anonymous":
        return APIClient()
    return bearer_client(member if role == "member" else staff)


def bearer_client(user_or_token) -> APIClient:
    """An API client sending `Authorization: Bearer <token>` (a user gets a fresh token)."""
    token = user_or_token if isinstance(user_or_token, str) else AccessToken.for_user(user_or_token)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client
