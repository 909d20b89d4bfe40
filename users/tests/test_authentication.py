"""Bearer authentication with the user read from the cache, kept current by signals."""

import datetime as dt
import time

import pytest
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.tokens import AccessToken, SlidingToken

from conftest import bearer_client
from core import cache as api_cache
from users.authentication import CachedUserJWTAuthentication, VerifiedTokens, verified_tokens
from users.user_fields import cached_user_fields

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_signed_in_cached_read_costs_no_query(user, django_assert_num_queries):
    client = bearer_client(user)
    client.get("/users")  # warms the user and the page
    with django_assert_num_queries(0):
        response = client.get("/users")
    assert response.status_code == 200
    assert response["X-Cache"] == "HIT"


def test_me_is_served_from_the_cached_fields(user, django_assert_num_queries):
    client = bearer_client(user)
    client.get("/auth/me")
    with django_assert_num_queries(0):
        body = client.get("/auth/me").json()
    assert body == {
        "id": user.pk,
        "name": user.name,
        "email": user.email,
        "created_at": body["created_at"],
    }


def test_deactivation_takes_effect_on_the_next_request(user, django_capture_on_commit_callbacks):
    client = bearer_client(user)
    assert client.get("/auth/me").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        user.is_active = False
        user.save()
    assert client.get("/auth/me").status_code == 401


def test_demotion_takes_effect_on_the_next_request(django_capture_on_commit_callbacks):
    staff = UserFactory(is_staff=True)
    client = bearer_client(staff)
    assert client.post("/users", {"name": "A", "email": "a@x.io"}, format="json").status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        staff.is_staff = False
        staff.save()
    assert client.post("/users", {"name": "B", "email": "b@x.io"}, format="json").status_code == 403


def test_deletion_takes_effect_on_the_next_request(user, django_capture_on_commit_callbacks):
    client = bearer_client(user)
    assert client.get("/auth/me").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        user.delete()
    assert client.get("/auth/me").status_code == 401


def test_fields_loaded_before_a_commit_are_not_kept_after_it(user):
    def load_then_race():
        fields = {"id": user.pk, "is_active": True, "stale": True}
        # The writer commits and invalidates while this request is still loading.
        api_cache.invalidate(api_cache.user_family(user.pk))
        return fields

    assert cached_user_fields(user.pk, load_then_race)["stale"]
    fresh = cached_user_fields(user.pk, lambda: {"id": user.pk, "stale": False})
    assert fresh["stale"] is False


def test_the_password_hash_is_not_cached(user):
    bearer_client(user).get("/auth/me")
    fields = cached_user_fields(user.pk, lambda: pytest.fail("should be cached"))
    assert "password" not in fields
    assert fields["email"] == user.email


def test_without_the_cache_users_come_from_the_database(user, settings):
    from core.tests.servers import free_port

    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}
    }
    assert bearer_client(user).get("/auth/me").json()["id"] == user.pk


def test_a_token_without_a_user_claim_is_rejected(user):
    token = AccessToken.for_user(user)
    del token["user_id"]
    assert bearer_client(str(token)).get("/auth/me").status_code == 401


def test_is_the_configured_authentication():
    from rest_framework.settings import api_settings

    assert api_settings.DEFAULT_AUTHENTICATION_CLASSES[0] is CachedUserJWTAuthentication


class TestVerifiedTokens:
    @pytest.fixture
    def decodes(self, monkeypatch):
        """How many times simplejwt's backend verifies a token (the real method, counted)."""
        calls = []
        real_decode = TokenBackend.decode

        def counted(backend, token, verify=True):
            calls.append(token)
            return real_decode(backend, token, verify=verify)

        monkeypatch.setattr(TokenBackend, "decode", counted)
        return calls

    def test_a_token_is_verified_once_per_process(self, user, decodes):
        client = bearer_client(user)
        assert [client.get("/auth/me").status_code for _ in range(3)] == [200, 200, 200]
        assert len(decodes) == 1

    def test_a_remembered_token_is_refused_once_it_expires(self, user):
        token = AccessToken.for_user(user)
        token.set_exp(lifetime=dt.timedelta(seconds=1))
        client = bearer_client(str(token))
        assert client.get("/auth/me").status_code == 200
        time.sleep(1.1)
        response = client.get("/auth/me")
        assert response.status_code == 401
        assert response.json()["code"] == "token_not_valid"

    def test_an_altered_copy_of_a_remembered_token_is_refused(self, user):
        token = str(AccessToken.for_user(user))
        assert bearer_client(token).get("/auth/me").status_code == 200
        header, payload, signature = token.split(".")
        altered = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
        assert bearer_client(f"{header}.{payload}.{altered}").get("/auth/me").status_code == 401

    def test_the_memory_keeps_the_most_recent_tokens_only(self, user):
        memory = VerifiedTokens(size=2)
        tokens = [AccessToken.for_user(user) for _ in range(3)]
        for token in tokens:
            memory.add(str(token).encode(), token)
        memory.get(str(tokens[1]).encode())  # used: now the most recent
        memory.add(b"another", tokens[0])
        assert memory.get(str(tokens[0]).encode()) is None
        assert memory.get(str(tokens[1]).encode()) is tokens[1]
        assert memory.get(str(tokens[2]).encode()) is None


def test_tokens_that_can_be_blacklisted_are_verified_every_time(user, monkeypatch):
    # As if AUTH_TOKEN_CLASSES named simplejwt's sliding tokens, which check a blacklist.
    monkeypatch.setattr(
        JWTAuthentication, "get_validated_token", lambda _self, raw: SlidingToken(raw)
    )
    raw = str(SlidingToken.for_user(user)).encode()
    assert CachedUserJWTAuthentication().get_validated_token(raw)["user_id"] == str(user.pk)
    assert verified_tokens.get(raw) is None
