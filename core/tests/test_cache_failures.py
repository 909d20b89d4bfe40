"""The API without its cache: a closed port, a killed server, a frozen one.

Each test that needs a Redis to break starts a private `redis-server` on a free port
and stops only that one; the shared Redis on 6379 is never touched.
"""

import logging
import time

import pytest

from core import cache as api_cache
from posts.tests.factories import PostFactory
from users.tests.factories import UserFactory

from .servers import free_port, point_cache_at

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
