"""The API without its cache: a closed port, a killed server, a frozen one.

Each test that needs a Redis to break starts a private `redis-server` on a free port
and stops only that one; the shared Redis on 6379 is never touched.
"""

import logging
import subprocess
import sys
import time

import pytest
from django.core.cache import cache

from core import cache as api_cache
from posts.tests.factories import PostFactory
from users.tests.factories import UserFactory

from .servers import BASE_DIR, TcpProxy, free_port, point_cache_at, service_env

pytestmark = pytest.mark.django_db

READ_PATHS = ["/users", "/users/search?name=member", "/users/stats", "/posts", "/posts/stats"]


@pytest.fixture
def data(user):
    for author in (user, UserFactory()):
        PostFactory.create_batch(2, user=author)
    return user


def wait_for_caching(client, path, deadline=5.0):
    """Read until the cache answers again (the breaker re-closes within its pause)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if client.get(path)["X-Cache"] == "HIT":
            return True
        time.sleep(0.1)
    return False


def test_closed_port_every_endpoint_answers_from_the_database(
    member_client, data, settings, caplog
):
    point_cache_at(settings, free_port())
    caplog.set_level(logging.WARNING, logger="core.cache")
    for _ in range(3):
        for path in READ_PATHS:
            response = member_client.get(path)
            assert response.status_code == 200, path
            assert response["X-Cache"] == "MISS"
    assert member_client.get("/users").json()["count"] == 2
    created = member_client.post("/posts", {"title": "T", "content": "C"})
    assert created.status_code == 201
    assert member_client.get(f"/posts/{created.json()['id']}").status_code == 200
    # One line for the whole burst, not one per request.
    warnings = [r for r in caplog.records if "cache unavailable" in r.getMessage()]
    assert len(warnings) == 1


def test_closed_port_throttling_fails_open(member_client, settings):
    point_cache_at(settings, free_port())
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth": "1/min", "user": "1/min"},
    }
    assert [member_client.get("/auth/me").status_code for _ in range(3)] == [200, 200, 200]


def test_killed_mid_traffic_then_restarted(
    private_redis, member_client, data, django_capture_on_commit_callbacks
):
    member_client.get("/users")
    assert member_client.get("/users")["X-Cache"] == "HIT"

    private_redis.kill()
    for path in READ_PATHS * 2:
        response = member_client.get(path)
        assert response.status_code == 200
        assert response["X-Cache"] == "MISS"
    with django_capture_on_commit_callbacks(execute=True):
        created = member_client.post("/posts", {"title": "During outage", "content": "C"})
    assert created.status_code == 201

    private_redis.start()
    assert wait_for_caching(member_client, "/posts")
    titles = [p["title"] for p in member_client.get("/posts").json()["results"]]
    assert "During outage" in titles


def test_a_frozen_cache_is_bypassed_and_its_old_pages_are_never_served_after(
    private_redis, member_client, data, django_capture_on_commit_callbacks
):
    member_client.get("/users")
    assert member_client.get("/users")["X-Cache"] == "HIT"

    # Unresponsive but holding its data: the worst case for staleness.
    private_redis.freeze()
    with django_capture_on_commit_callbacks(execute=True):
        renamed = member_client.patch(f"/users/{data.pk}", {"name": "Renamed while frozen"})
    assert renamed.status_code == 200
    during = member_client.get("/users")
    assert during.status_code == 200
    assert "Renamed while frozen" in during.content.decode()

    private_redis.thaw()
    time.sleep(0.35)  # past the breaker's pause
    after = member_client.get("/users")
    assert "Renamed while frozen" in after.content.decode()
    assert after["X-Cache"] == "MISS"
    assert wait_for_caching(member_client, "/users")
    assert "Renamed while frozen" in member_client.get("/users").content.decode()


def test_caching_resumes_by_itself_after_an_outage(private_redis, member_client, data):
    private_redis.kill()
    assert member_client.get("/users")["X-Cache"] == "MISS"
    assert api_cache.breaker.allows_call() is False
    private_redis.start()
    assert wait_for_caching(member_client, "/users")


def generation(family):
    """The family's token as Redis holds it now, read past the breaker."""
    return cache.get(api_cache._generation_key(family))


def open_the_breaker(private_redis):
    """One call that times out on a paused Redis opens the breaker, as in production."""
    private_redis.freeze()
    try:
        assert api_cache.guarded(cache.get, "any", default="failed") == "failed"
    finally:
        private_redis.thaw()
    assert not api_cache.breaker.allows_call()


def test_an_invalidation_is_sent_while_the_breaker_is_open(private_redis, settings):
    settings.CACHE_BREAKER_SECONDS = 5
    family = api_cache.user_family(1)
    api_cache.invalidate(family)
    before = generation(family)
    open_the_breaker(private_redis)
    # Redis answers again, the breaker is still open: a demotion committed now must
    # reach the other workers, not wait for the pause to end (or be lost with us).
    assert api_cache.invalidate(family) is True
    assert generation(family) not in (None, before)
    assert not api_cache._pending_invalidations


def test_a_failed_invalidation_is_owed_and_resent_once_the_cache_answers(private_redis):
    family = api_cache.user_family(1)
    api_cache.invalidate(family)
    before = generation(family)
    private_redis.freeze()
    try:
        assert api_cache.invalidate(family) is False
        assert family in api_cache._pending_invalidations
        # Owed: while it is, this process reads the family from the database.
        assert api_cache.read_current(family, "auth:probe") == (None, None)
    finally:
        private_redis.thaw()
    time.sleep(0.35)  # past the breaker's pause
    api_cache.read_current(api_cache.POSTS, "posts:probe")  # any cache access re-sends
    assert not api_cache._pending_invalidations
    assert generation(family) != before


def test_a_value_batched_before_an_owed_invalidation_was_resent_is_never_served(private_redis, rf):
    family, key = api_cache.USERS, "users:probe"
    _, current = api_cache.read_current(family, key)
    api_cache.store_current(key, current, "old rows", ttl=60)
    request = rf.get("/users")
    api_cache.fetch_batch(request, families_and_keys=[(family, key)])
    # Another thread of this worker commits a write; its invalidation cannot be sent.
    private_redis.freeze()
    try:
        assert api_cache.invalidate(family) is False
    finally:
        private_redis.thaw()
    time.sleep(0.35)  # past the breaker's pause
    # The view now reads its page: the owed invalidation is re-sent first, and the
    # value batched before it must not be taken as current.
    payload, _ = api_cache.read_current(family, key, request)
    assert payload is None
    assert not api_cache._pending_invalidations


def test_a_value_batched_before_this_process_invalidated_its_family_is_not_served(
    private_redis, rf
):
    family, key = api_cache.USERS, "users:probe"
    _, current = api_cache.read_current(family, key)
    api_cache.store_current(key, current, "old rows", ttl=60)
    request = rf.get("/users")
    api_cache.fetch_batch(request, families_and_keys=[(family, key)])
    api_cache.invalidate(family)  # a write committed by another thread of this worker
    assert api_cache.read_current(family, key, request)[0] is None
    other = rf.get("/users")
    api_cache.fetch_batch(other, families_and_keys=[(family, key)])
    assert api_cache.read_current(family, key, other)[0] is None  # the new generation


OWE_THEN_EXIT = """
import sys
import django

django.setup()
from core import cache as api_cache

print("sent" if api_cache.invalidate(sys.argv[1]) else "owed", flush=True)
sys.stdin.readline()
"""


def test_an_exiting_process_resends_the_invalidations_it_owes(private_redis):
    family = api_cache.user_family(1)
    api_cache.invalidate(family)
    before = generation(family)
    # The other process reaches Redis through a proxy that goes silent: its
    # invalidation is never delivered, unlike a paused server's, which may land late.
    proxy = TcpProxy(private_redis.port).start()
    env = service_env(REDIS_URL=f"redis://127.0.0.1:{proxy.port}/0")
    try:
        proxy.blackhole()
        shell = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", OWE_THEN_EXIT, family],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert shell.stdout.readline().strip() == "owed"
        assert generation(family) == before
        proxy.restore()
        _, errors = shell.communicate("\n", timeout=30)
        assert shell.returncode == 0, errors
    finally:
        proxy.stop()
    assert generation(family) not in (None, before)
