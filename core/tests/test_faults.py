"""Failing dependencies under the real server: gunicorn with gunicorn.conf.py.

Redis is a private `redis-server` on a free port that the test kills and restarts;
PostgreSQL is the real server behind a TCP proxy (a thread of the test) that the test
cuts and restores. gunicorn is never restarted: recovery has to happen by itself.
Each test starts, and stops, only the servers it started.
"""

import json
import threading
import time
from collections import Counter

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from core import cache as api_cache
from posts.models import Post
from posts.tests.factories import PostFactory
from users.tests.factories import UserFactory
from users.user_fields import user_fields_key

from .figures import record
from .servers import (
    Gunicorn,
    PrivateRedis,
    TcpProxy,
    fetch,
    free_port,
    point_cache_at,
    service_env,
)

pytestmark = pytest.mark.django_db(transaction=True)

READ_PATHS = ["/users", "/users/stats", "/posts", "/posts/stats", "/users/search?name=member"]
UNAVAILABLE = {"detail": "The database is unavailable; try again shortly."}


def api_env(**overrides):
    """gunicorn's environment: tokens minted here are valid there, no rate limits."""
    return service_env(
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        API_THROTTLE_USER="1000000/min",
        API_THROTTLE_AUTH="1000000/min",
        **overrides,
    )


def bearer(user):
    return {"Authorization": f"Bearer {AccessToken.for_user(user)}"}


def wait_until(predicate, attempts=100, pause=0.1):
    """Poll a condition a bounded number of times; True as soon as it holds."""
    for _ in range(attempts):
        if predicate():
            return True
        time.sleep(pause)
    return False


class Traffic:
    """Client threads reading lists and writing posts until stopped; every answer kept."""

    def __init__(self, base, headers, threads=3):
        self.base = base
        self.headers = {**headers, "Content-Type": "application/json"}
        self.statuses = Counter()
        self.failures = []
        self.created = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(n,)) for n in range(threads)]

    def _run(self, n):
        i = 0
        while not self._stop.is_set():
            i += 1
            if i % 5 == 0:
                body = json.dumps({"title": f"traffic {n}-{i}", "content": "c"}).encode()
                status, _, raw = fetch(f"{self.base}/posts", self.headers, body, timeout=15)
                if status == 201:
                    with self._lock:
                        self.created.append(json.loads(raw)["id"])
            else:
                path = READ_PATHS[i % len(READ_PATHS)]
                status, _, raw = fetch(f"{self.base}{path}", self.headers, timeout=15)
            with self._lock:
                self.statuses[status] += 1
                if not 200 <= status < 300:
                    self.failures.append((status, raw[:200]))
            time.sleep(0.01)

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    @property
    def total(self):
        return sum(self.statuses.values())


def test_redis_killed_mid_traffic_and_restarted_under_gunicorn(tmp_path):
    staff = UserFactory(is_staff=True)
    PostFactory.create_batch(3, user=staff)
    headers = bearer(staff)
    redis = PrivateRedis(free_port())
    redis.start()
    env = api_env(REDIS_URL=f"redis://127.0.0.1:{redis.port}/0", CACHE_BREAKER_SECONDS="0.5")
    try:
        with Gunicorn(env, tmp_path / "gunicorn.log") as server:

            def cache(path="/posts"):
                return fetch(f"{server.base}{path}", headers)[1].get("X-Cache")

            def readiness():
                status, _, body = fetch(f"{server.base}/readyz")
                return status, json.loads(body)

            with Traffic(server.base, headers) as traffic:
                assert wait_until(lambda: cache() == "HIT")
                assert readiness() == (
                    200,
                    {"status": "ready", "checks": {"database": "ok", "cache": "ok"}},
                )

                redis.kill()
                record("faults", redis_kills=1)
                # Degraded, still ready: the API serves from PostgreSQL alone.
                degraded = {"status": "degraded", "checks": {"database": "ok", "cache": "failed"}}
                assert wait_until(lambda: readiness() == (200, degraded))
                before = traffic.total
                assert wait_until(lambda: traffic.total > before + 30)
                body = json.dumps({"title": "written while Redis was down", "content": "c"})
                status, _, raw = fetch(
                    f"{server.base}/posts",
                    {**headers, "Content-Type": "application/json"},
                    body.encode(),
                )
                assert status == 201
                outage_post = json.loads(raw)["id"]
                assert cache() == "MISS"

                redis.start()
                assert wait_until(lambda: readiness()[1]["status"] == "ready")
                # Caching resumes by itself in every worker: several hits in a row.
                assert wait_until(lambda: all(cache() == "HIT" for _ in range(6)))

            # Traffic stopped: the database no longer changes. No stale page after the
            # cache resumed: what every worker serves, hit or miss, is the database.
            expected_ids = sorted(Post.objects.values_list("id", flat=True))
            assert outage_post in expected_ids
            outcomes = Counter()
            for _ in range(8):
                status, response_headers, raw = fetch(f"{server.base}/posts?limit=100", headers)
                outcomes[response_headers["X-Cache"]] += 1
                assert [p["id"] for p in json.loads(raw)["results"]] == expected_ids[:100]
                assert json.loads(raw)["count"] == len(expected_ids)
            assert outcomes["HIT"] >= 6
    finally:
        if redis.process.poll() is None:
            redis.kill()

    assert traffic.failures == []
    assert set(traffic.statuses) <= {200, 201}
    assert set(traffic.created) <= set(expected_ids)
    record("faults", requests=traffic.total, requests_failed=len(traffic.failures))


def test_database_cut_is_a_fast_json_503_and_recovers_without_a_restart(tmp_path):
    staff = UserFactory(is_staff=True)
    PostFactory.create_batch(2, user=staff)
    headers = bearer(staff)
    db = connection.settings_dict
    proxy = TcpProxy(int(db["PORT"] or 5432)).start()
    timeout = 2
    env = api_env(
        DATABASE_URL=f"postgres://{db['USER']}@127.0.0.1:{proxy.port}/{db['NAME']}",
        DATABASE_CONNECT_TIMEOUT=str(timeout),
        READINESS_TIMEOUT="3",
    )
    sent = 0

    def call(path, method=None, data=None):
        nonlocal sent
        sent += 1
        # A hang past the connect timeout would raise here (socket timeout): no 503
        # may take longer than the timeout gunicorn's process was given, plus slack.
        return fetch(
            f"{server.base}{path}",
            {**headers, "Content-Type": "application/json"},
            data,
            method=method,
            timeout=timeout + 3,
        )

    def many_ok(count=24):
        """`count` requests, four at a time so several worker threads take part."""
        results = []

        def one(i):
            results.append(call(READ_PATHS[i % len(READ_PATHS)])[0])

        for start in range(0, count, 4):
            batch = [threading.Thread(target=one, args=(i,)) for i in range(start, start + 4)]
            for thread in batch:
                thread.start()
            for thread in batch:
                thread.join()
        return results

    try:
        with Gunicorn(env, tmp_path / "gunicorn.log") as server:
            assert set(many_ok()) == {200}

            # 1. Down: every database-backed request is a quick JSON 503.
            proxy.cut()
            # Nothing may be answered from the cache instead: every request below has
            # to reach for the database.
            cache.clear()
            record("faults", database_cuts=1)
            for path, method, data in [
                ("/users", None, None),
                ("/posts/stats", None, None),
                ("/auth/me", None, None),
                ("/posts", "POST", json.dumps({"title": "T", "content": "C"}).encode()),
                ("/auth/token", "POST", json.dumps({"email": "a@x.io", "password": "x"}).encode()),
            ] * 3:
                status, response_headers, body = call(path, method, data)
                assert status == 503, (path, body)
                assert response_headers["Content-Type"] == "application/json"
                assert json.loads(body) == UNAVAILABLE
            status, _, body = call("/readyz")
            assert status == 503
            assert json.loads(body)["checks"]["database"] in {"failed", "timeout"}
            assert call("/healthz")[0] == 200

            # 1b. Unanswering: connections hang until DATABASE_CONNECT_TIMEOUT, then the
            # same JSON 503 (`call` would raise on a hang much past that timeout).
            proxy.blackhole()
            cache.clear()
            record("faults", database_blackholes=1)
            for path in ("/users", "/auth/me"):
                status, _, body = call(path)
                assert status == 503, (path, body)
                assert json.loads(body) == UNAVAILABLE

            # 2. Back: the same gunicorn answers again, no restart.
            proxy.restore()
            assert wait_until(lambda: call("/readyz")[0] == 200, attempts=50)
            assert set(many_ok()) == {200}

            # 3. A blip that kills every open connection between two requests: the
            # workers' persistent connections are dead, and no request may fail for it.
            proxy.cut()
            proxy.restore()
            record("faults", database_cuts=1)
            assert set(many_ok(40)) == {200}
            assert not Post.objects.filter(title="T").exists()
            log = (tmp_path / "gunicorn.log").read_text()
    finally:
        proxy.stop()
    assert "Traceback" not in log
    record("faults", requests=sent)


def test_a_removed_right_stops_at_once_and_a_restored_snapshot_brings_it_back_only_briefly(
    tmp_path, settings
):
    """Two gunicorn workers, a real clock: at once while Redis works, then the bound."""
    max_age = 6
    staff = UserFactory(is_staff=True)
    headers = {**bearer(staff), "Content-Type": "application/json"}
    redis = PrivateRedis(free_port(), directory=tmp_path)
    redis.start()
    point_cache_at(settings, redis.port)  # this process's writes invalidate there
    env = api_env(
        REDIS_URL=f"redis://127.0.0.1:{redis.port}/0",
        CACHE_BREAKER_SECONDS="0.5",
        USER_FIELDS_MAX_AGE=str(max_age),
    )

    def statuses(count=8):
        """POST /users with an empty body: 400 for staff (nothing written), else 401."""
        return {fetch(f"{server.base}/users", headers, b"{}", timeout=15)[0] for _ in range(count)}

    try:
        with Gunicorn(env, tmp_path / "gunicorn.log") as server:
            read_from = time.time()
            assert statuses() == {400}
            snapshot = redis.snapshot(tmp_path / "before-deactivation.rdb")
            snapshot_at = time.time()  # every entry in the snapshot was read before

            staff.is_active = False
            staff.save()  # autocommit: the invalidation is sent on save
            assert statuses() == {401}  # at once, on whichever worker answers

            redis.restore(snapshot)
            record("faults", redis_restores=1)
            # The old generation and the old fields are back: without the age bound,
            # workers would trust them again for as long as they stay in Redis.
            generation, entry = cache.get(user_fields_key(staff.pk))
            assert cache.get(api_cache._generation_key(api_cache.user_family(staff.pk))) == (
                generation
            )
            assert entry["fields"]["is_active"] is True
            assert read_from <= entry["read_at"] <= snapshot_at

            time.sleep(max(0.0, snapshot_at + max_age + 0.2 - time.time()))
            assert statuses(12) == {401}
            log = (tmp_path / "gunicorn.log").read_text()
    finally:
        if redis.process.poll() is None:
            redis.kill()
    assert "Traceback" not in log
