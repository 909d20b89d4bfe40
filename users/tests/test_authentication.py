"""Bearer authentication with the user read from the cache, kept current by signals."""

import contextlib
import datetime as dt
import subprocess
import sys
import time

import pytest
from django.core.cache import cache
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.tokens import AccessToken, SlidingToken

from conftest import bearer_client
from core import cache as api_cache
from core.tests.servers import BASE_DIR, TcpProxy, point_cache_at, service_env
from users import user_fields
from users.authentication import CachedUserJWTAuthentication, VerifiedTokens, verified_tokens
from users.models import ReadOnlyUserError, User
from users.serializers import UserSerializer
from users.user_fields import cached_user_fields

from .factories import TEST_PASSWORD, UserFactory

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


# --- A removed right stops working within USER_FIELDS_MAX_AGE, whatever Redis does -------

# The tests move the clock instead of sleeping; the bound stays longer than the real
# time a test takes, so that Redis does not expire the entries (their TTL is the bound).
MAX_AGE = 20.0


class Clock:
    """The wall clock users.user_fields reads, moved by the test instead of sleeping."""

    def __init__(self):
        self.now = time.time()

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch, settings):
    settings.USER_FIELDS_MAX_AGE = MAX_AGE
    moved = Clock()
    monkeypatch.setattr(user_fields, "wall_clock", lambda: moved.now)
    return moved


def deactivate(user):
    user.is_active = False
    user.save()


def demote(user):
    user.is_staff = False
    user.save()


def delete(user):
    user.delete()


REMOVALS = [
    pytest.param(deactivate, id="deactivation"),
    pytest.param(demote, id="demotion"),
    pytest.param(delete, id="deletion"),
]


def may_create_users(client) -> bool:
    """Whether the caller still holds staff rights: past permissions, an empty body is a 400.

    A demoted caller gets 403, a deactivated or deleted one 401; nothing is written.
    """
    status = client.post("/users", {}, format="json").status_code
    assert status in (400, 401, 403), status
    return status == 400


@contextlib.contextmanager
def redis_silent_for_this_worker(settings, server):
    """This process reaches Redis through a proxy that accepts and never answers.

    As a paused Redis does for the writer, except that nothing it sends lands later:
    the invalidation is lost for good, while other workers still read Redis directly.
    """
    proxy = TcpProxy(server.port).start()
    proxy.blackhole()
    point_cache_at(settings, proxy.port)
    try:
        yield
    finally:
        point_cache_at(settings, server.port)
        proxy.stop()


def become_another_worker():
    """A worker that owes nothing and has not seen the failure: it trusts Redis."""
    api_cache.forget_failures()


@pytest.fixture
def staff_with_cached_rights(private_redis, clock):
    staff = UserFactory(is_staff=True)
    client = bearer_client(staff)
    assert may_create_users(client)  # reads and caches the fields, at clock.now
    return staff, client


class TestRemovedRights:
    @pytest.mark.parametrize("remove", REMOVALS)
    def test_a_removal_committed_while_the_breaker_is_open_reaches_every_worker_at_once(
        self, private_redis, settings, remove, django_capture_on_commit_callbacks
    ):
        settings.CACHE_BREAKER_SECONDS = 5
        staff = UserFactory(is_staff=True)
        client = bearer_client(staff)
        assert may_create_users(client)
        private_redis.freeze()
        try:
            assert may_create_users(client)  # a read times out: answered from the database
        finally:
            private_redis.thaw()
        assert not api_cache.breaker.allows_call()
        with django_capture_on_commit_callbacks(execute=True):
            remove(staff)
        become_another_worker()
        assert not may_create_users(client)

    @pytest.mark.parametrize("remove", REMOVALS)
    def test_a_removal_whose_invalidation_never_arrived_stops_working_at_the_bound(
        self,
        staff_with_cached_rights,
        private_redis,
        settings,
        clock,
        remove,
        django_capture_on_commit_callbacks,
    ):
        staff, client = staff_with_cached_rights
        family = api_cache.user_family(staff.pk)
        with redis_silent_for_this_worker(settings, private_redis):
            with django_capture_on_commit_callbacks(execute=True):
                remove(staff)
            assert family in api_cache._pending_invalidations
        become_another_worker()
        clock.advance(MAX_AGE - 0.1)
        assert may_create_users(client)  # the old entry is still current in Redis
        clock.advance(0.2)
        assert not may_create_users(client)

    def test_a_flushed_cache_forgets_a_removed_right_at_once(
        self,
        staff_with_cached_rights,
        private_redis,
        settings,
        django_capture_on_commit_callbacks,
    ):
        staff, client = staff_with_cached_rights
        with (
            redis_silent_for_this_worker(settings, private_redis),
            django_capture_on_commit_callbacks(execute=True),
        ):
            deactivate(staff)
        become_another_worker()
        private_redis.flush()
        assert not may_create_users(client)

    def test_rights_brought_back_by_an_older_snapshot_stop_working_at_the_bound(
        self,
        staff_with_cached_rights,
        private_redis,
        clock,
        tmp_path,
        django_capture_on_commit_callbacks,
    ):
        staff, client = staff_with_cached_rights
        snapshot = private_redis.snapshot(tmp_path / "before-deactivation.rdb")
        with django_capture_on_commit_callbacks(execute=True):
            deactivate(staff)
        assert not may_create_users(client)  # at once while Redis works
        # Restored from the snapshot (or failed over to a replica that missed the write):
        # the old generation and the old fields are back.
        private_redis.restore(snapshot)
        become_another_worker()
        clock.advance(1)
        assert may_create_users(client)
        clock.advance(MAX_AGE - 1 + 0.1)
        assert not may_create_users(client)

    def test_an_entry_is_trusted_up_to_the_max_age_and_never_from_the_future(
        self, staff_with_cached_rights, private_redis, clock
    ):
        staff, _ = staff_with_cached_rights

        def cached():
            return cached_user_fields(staff.pk, load=lambda: None)

        clock.advance(MAX_AGE)
        assert cached()["id"] == staff.pk
        clock.advance(0.001)
        assert cached() is None
        clock.advance(-MAX_AGE - 1)  # a host whose clock runs behind the writer's
        assert cached() is None

    def test_a_max_age_over_30_seconds_is_held_to_30(
        self, staff_with_cached_rights, settings, clock
    ):
        staff, _ = staff_with_cached_rights
        settings.USER_FIELDS_MAX_AGE = 300
        clock.advance(30.5)
        assert cached_user_fields(staff.pk, load=lambda: None) is None


WRITE_THEN_EXIT = """
import sys
import django

django.setup()
from users.models import User

user = User.objects.get(pk=int(sys.argv[1]))
user.is_active = False
user.save()
"""


@pytest.mark.django_db(transaction=True)
def test_a_removal_lost_with_its_process_stops_working_at_the_bound(private_redis, clock):
    staff = UserFactory(is_staff=True)
    client = bearer_client(staff)
    assert may_create_users(client)
    # A `manage.py shell` deactivates the user while Redis does not answer it, and
    # exits: its invalidation, and the re-send at exit, are lost with it.
    proxy = TcpProxy(private_redis.port).start()
    try:
        proxy.blackhole()
        shell = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", WRITE_THEN_EXIT, str(staff.pk)],
            cwd=BASE_DIR,
            env=service_env(REDIS_URL=f"redis://127.0.0.1:{proxy.port}/0"),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        proxy.stop()
    assert shell.returncode == 0, shell.stderr
    assert "exiting with cache invalidations not sent" in shell.stderr
    clock.advance(MAX_AGE - 0.1)
    assert may_create_users(client)
    clock.advance(0.2)
    assert not may_create_users(client)


class TestFormat:
    def test_fields_cached_by_the_previous_release_are_not_read(self, user):
        # The previous release kept (generation, fields) under auth:user:<id>, without
        # a format; here with a field this release does not know.
        family = api_cache.user_family(user.pk)
        _, generation = api_cache.read_current(family, "auth:probe")
        fields = {**user_fields.load_user_fields(user.pk), "nickname": "old"}
        cache.set(f"auth:{family}", (generation, fields), timeout=60)
        response = bearer_client(user).get("/auth/me")
        assert response.status_code == 200
        assert response.json()["email"] == user.email

    @pytest.mark.parametrize(
        "stored",
        [
            {"id": 1},
            {"read_at": "now", "fields": {}},
            {"read_at": 1.0, "fields": {"id": 1}, "extra": True},
            ("a", "tuple"),
        ],
    )
    def test_an_entry_of_another_shape_under_this_format_is_not_read(self, user, stored):
        family = api_cache.user_family(user.pk)
        key = user_fields.user_fields_key(user.pk)
        _, generation = api_cache.read_current(family, key)
        cache.set(key, (generation, stored), timeout=60)
        assert bearer_client(user).get("/auth/me").json()["id"] == user.pk

    def test_the_format_follows_the_layout_and_the_field_list(self):
        fields = user_fields.CACHED_FIELDS
        assert user_fields.FORMAT in user_fields.user_fields_key(1)
        assert user_fields.format_of(user_fields.LAYOUT, fields) == user_fields.FORMAT
        assert user_fields.format_of(user_fields.LAYOUT, fields[:-1]) != user_fields.FORMAT
        assert user_fields.format_of(user_fields.LAYOUT + 1, fields) != user_fields.FORMAT


class TestTheSignedInUser:
    """request.user as bearer authentication builds it from the cached fields."""

    @pytest.fixture
    def signed_in(self, user):
        bearer_client(user).get("/auth/me")  # its fields are cached now
        return CachedUserJWTAuthentication().get_user(AccessToken.for_user(user))

    def test_cannot_be_saved_or_deleted(self, signed_in, user):
        with pytest.raises(ReadOnlyUserError, match="built from cached fields"):
            signed_in.save()
        with pytest.raises(ReadOnlyUserError, match="cannot be deleted"):
            signed_in.delete()
        row = User.objects.get(pk=user.pk)
        assert row.check_password(TEST_PASSWORD)

    def test_checks_a_password_whose_hash_needs_upgrading_without_saving(
        self, signed_in, user, settings
    ):
        # A newer preferred hasher makes Django re-hash (and save) on a successful check.
        settings.PASSWORD_HASHERS = [
            "django.contrib.auth.hashers.PBKDF2PasswordHasher",
            "django.contrib.auth.hashers.MD5PasswordHasher",
        ]
        assert signed_in.check_password(TEST_PASSWORD)
        assert not signed_in.check_password("wrong")
        assert User.objects.get(pk=user.pk).password.startswith("md5$")

    def test_behaves_as_the_user_without_a_query(self, signed_in, user, django_assert_num_queries):
        with django_assert_num_queries(0):
            assert isinstance(signed_in, User)
            assert signed_in == user
            assert (signed_in.pk, signed_in.is_authenticated) == (user.pk, True)
            flags = (signed_in.is_active, signed_in.is_staff, signed_in.is_superuser)
            assert flags == (True, False, False)
            assert UserSerializer(signed_in).data == UserSerializer(user).data

    def test_a_superuser_has_every_permission(self, django_assert_num_queries):
        root = User.objects.create_superuser(email="root@x.io", name="Root", password="p")
        bearer_client(root).get("/auth/me")
        signed_in = CachedUserJWTAuthentication().get_user(AccessToken.for_user(root))
        with django_assert_num_queries(0):
            assert signed_in.has_perm("users.delete_user")

    def test_uncached_fields_are_read_from_the_database(self, signed_in, user):
        User.objects.filter(pk=user.pk).update(post_count=3)
        assert signed_in.post_count == 3
        assert signed_in.check_password(TEST_PASSWORD)

    def test_refresh_from_db_reads_the_row(self, signed_in, user):
        User.objects.filter(pk=user.pk).update(name="Renamed elsewhere")
        signed_in.refresh_from_db()
        assert signed_in.name == "Renamed elsewhere"
        with pytest.raises(ReadOnlyUserError):
            signed_in.save()
