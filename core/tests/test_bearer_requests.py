"""Bearer-token requests skip the session middleware and answer exactly as before."""

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.core.exceptions import MiddlewareNotUsed
from django.db import connections
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from conftest import bearer_client
from core.bearer_requests import BearerRequestMiddleware
from posts.tests.factories import PostFactory
from users.models import User
from users.tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SHORTCUT = "core.bearer_requests.BearerRequestMiddleware"
# Differ on every response by design: the request id is fresh, the date is the clock's.
VOLATILE_HEADERS = {"X-Request-ID", "Date"}


@pytest.fixture
def without_shortcut(settings):
    """Switch the shortcut off: every request goes down the whole middleware stack."""

    def switch():
        settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != SHORTCUT]

    return switch


@pytest.fixture
def low_user_rate(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth": "10/min", "user": "2/min"},
    }


def expired_token(user):
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-dt.timedelta(seconds=1))
    return str(token)


def answers(make_client, send):
    """Status, headers and body of each response `send(client)` gives, from an empty cache.

    The client is new: a test client builds its middleware chain on first use.
    """
    cache.clear()
    return [
        (
            response.status_code,
            {
                k: "N" if k == "Retry-After" else v
                for k, v in response.headers.items()
                if k not in VOLATILE_HEADERS
            },
            # A 429's seconds until the window ends differ between two runs of one test.
            re.sub(rb"available in \d+ seconds", b"available in N seconds", response.content),
            hasattr(response.wsgi_request, "session"),
        )
        for response in send(make_client())
    ]


def assert_same_answers(make_client, send, without_shortcut):
    shortcut = answers(make_client, send)
    without_shortcut()
    full_stack = answers(make_client, send)
    assert [a[:3] for a in shortcut] == [a[:3] for a in full_stack]
    assert [a[3] for a in shortcut] == [False] * len(shortcut), "the shortcut was not taken"
    assert [a[3] for a in full_stack] == [True] * len(full_stack)


@pytest.fixture
def rows():
    author = UserFactory(name="Ada Lovelace")
    PostFactory.create_batch(3, user=author)
    UserFactory.create_batch(2)
    return author


class TestSameAnswersAsTheWholeStack:
    @pytest.mark.parametrize(
        "path",
        [
            "/users",
            "/users?skip=1&limit=2",
            "/users/search?name=ada",
            "/users/stats",
            "/users/{author}",
            "/users/999999999",
            "/users?limit=abc",
            "/posts?user_id={author}",
            "/posts?user_id=abc",
            "/posts/stats",
            "/api/v1/users/{author}",
            "/auth/me",
        ],
    )
    def test_reads_miss_then_hit(self, rows, without_shortcut, path):
        url = path.format(author=rows.pk)
        assert_same_answers(
            lambda: bearer_client(rows), lambda c: [c.get(url), c.get(url)], without_shortcut
        )

    def test_a_revalidation_gets_the_same_304(self, rows, without_shortcut):
        def send(client):
            first = client.get("/users")
            return [first, client.get("/users", HTTP_IF_NONE_MATCH=first["ETag"])]

        assert_same_answers(lambda: bearer_client(rows), send, without_shortcut)

    @pytest.mark.parametrize("method", ["head", "options"])
    def test_head_and_options(self, rows, without_shortcut, method):
        assert_same_answers(
            lambda: bearer_client(rows), lambda c: [getattr(c, method)("/users")], without_shortcut
        )

    @pytest.mark.parametrize(
        "header",
        ["Bearer not.a.token", "Bearer", "Bearer a b", "Bearer {expired}"],
    )
    def test_refused_tokens_get_the_same_401(self, rows, without_shortcut, header):
        token = header.format(expired=expired_token(rows))
        assert_same_answers(
            lambda: APIClient(HTTP_AUTHORIZATION=token),
            lambda c: [c.get("/users")],
            without_shortcut,
        )

    def test_a_member_refused_a_write_gets_the_same_403(self, rows, without_shortcut):
        other = UserFactory()
        assert_same_answers(
            lambda: bearer_client(rows),
            lambda c: [c.delete(f"/users/{other.pk}")],
            without_shortcut,
        )

    def test_the_throttle_counts_and_refuses_the_same(self, rows, without_shortcut, low_user_rate):
        assert_same_answers(
            lambda: bearer_client(rows),
            lambda c: [c.get("/users/stats") for _ in range(3)],
            without_shortcut,
        )

    def test_a_bad_write_gets_the_same_400_and_nothing_is_written(self, rows, without_shortcut):
        staff = UserFactory(is_staff=True)
        before = User.objects.count()
        assert_same_answers(
            lambda: bearer_client(staff),
            lambda c: [c.post("/users", {"name": "", "email": "nope"}, format="json")],
            without_shortcut,
        )
        assert User.objects.count() == before


class TestWritesThroughTheShortcut:
    def test_a_post_is_created_and_invalidates_the_list(
        self, rows, django_capture_on_commit_callbacks
    ):
        client = bearer_client(rows)
        assert client.get("/posts").json()["count"] == 3
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/posts", {"title": "t", "content": "c"}, format="json")
        assert response.status_code == 201
        assert not hasattr(response.wsgi_request, "session")
        listed = client.get("/posts")
        assert listed["X-Cache"] == "MISS"
        assert listed.json()["count"] == 4


class TestWhoTakesTheWholeStack:
    def test_a_session_signed_in_staff_member_still_uses_the_session(self, client):
        staff = UserFactory(is_staff=True)
        assert client.login(email=staff.email, password=TEST_PASSWORD)
        response = client.get("/users", HTTP_ACCEPT="application/json")
        assert response.status_code == 200
        assert hasattr(response.wsgi_request, "session")

    @pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "", "   ", "Token abc"])
    def test_other_schemes_fall_through_to_a_clean_401(self, header):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        response = client.get("/users")
        assert response.status_code == 401
        assert "detail" in response.json()
        assert hasattr(response.wsgi_request, "session")

    @pytest.mark.parametrize("path", ["/auth/token", "/no/such/path", "/healthz"])
    def test_views_that_do_not_read_tokens_first_take_the_whole_stack(self, rows, path):
        response = bearer_client(rows).get(path)
        assert response.status_code in (200, 404, 405)
        assert hasattr(response.wsgi_request, "session")

    def test_a_route_that_authenticates_otherwise_takes_the_whole_stack(self):
        from types import SimpleNamespace

        from rest_framework.authentication import SessionAuthentication

        from core.bearer_requests import _token_authenticator
        from users.authentication import CachedUserJWTAuthentication
        from users.views import UserViewSet

        by_class = SimpleNamespace(cls=UserViewSet, initkwargs={})
        assert isinstance(_token_authenticator(by_class), CachedUserJWTAuthentication)
        by_route = SimpleNamespace(
            cls=UserViewSet, initkwargs={"authentication_classes": [SessionAuthentication]}
        )
        assert _token_authenticator(by_route) is None

    def test_it_steps_aside_when_requests_are_atomic(self, monkeypatch):
        monkeypatch.setitem(connections.settings["default"], "ATOMIC_REQUESTS", True)
        with pytest.raises(MiddlewareNotUsed):
            BearerRequestMiddleware(lambda request: None)
