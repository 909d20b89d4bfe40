"""Measure what a failing Redis adds to request latency, in-process, on GET /users.

Usage (PostgreSQL on 127.0.0.1 and `redis-server` on PATH needed; uses its own Redis):
    .venv/bin/python bench/cache_outage.py [--requests 300]

Scenarios, each timed over the same number of requests:
- healthy, cached: every request a HIT;
- healthy, uncached: every request a MISS (the page built from PostgreSQL);
- closed port: Redis killed, connections refused;
- frozen: Redis stopped with SIGSTOP, so connections hang until the read timeout.
"Extra" is the scenario's latency minus the uncached one: what the outage costs.
Prints a markdown table; docs/PERFORMANCE.md keeps the committed figures.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    from core.tests.servers import PrivateRedis, free_port

    redis_server = PrivateRedis(free_port())
    redis_server.start()
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{redis_server.port}/0"
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/users_posts_bench")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-key-" + "x" * 50)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.test import APIClient

    from core import cache as api_cache
    from users.models import User

    settings.ALLOWED_HOSTS = ["testserver"]
    try:
        connection.ensure_connection()
    except Exception:  # noqa: BLE001 - create the scratch database on first use
        import psycopg

        name = settings.DATABASES["default"]["NAME"]
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)
    staff, _ = User.objects.get_or_create(
        email="bench-staff@example.com", defaults={"name": "Bench", "is_staff": True}
    )
    if User.objects.count() < 50:
        for i in range(50):
            User.objects.get_or_create(email=f"bench{i}@example.com", defaults={"name": f"B{i}"})
    client = APIClient()
    client.force_authenticate(staff)

    def timed(before_each=None):
        samples = []
        for _ in range(args.requests):
            if before_each:
                before_each()
            start = time.perf_counter()
            response = client.get("/users")
            samples.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"GET /users answered {response.status_code}")
        return samples

    results = {}
    client.get("/users")
    results["healthy, cached (HIT)"] = timed()
    results["healthy, uncached (MISS)"] = timed(lambda: api_cache.invalidate(api_cache.USERS))
    redis_server.freeze()
    results["Redis frozen (SIGSTOP)"] = timed()
    redis_server.thaw()
    redis_server.kill()
    api_cache.forget_failures()
    results["Redis down (closed port)"] = timed()

    baseline = statistics.median(results["healthy, uncached (MISS)"])
    print(f"GET /users, {args.requests} requests per scenario, in-process test client")
    print(f"(REDIS_TIMEOUT={settings.CACHES['default']['OPTIONS']['SOCKET_TIMEOUT']} s, ", end="")
    print(f"CACHE_BREAKER_SECONDS={settings.CACHE_BREAKER_SECONDS})\n")
    print("| scenario | p50 ms | p99 ms | max ms | extra p50 ms | extra max ms |")
    print("|---|---|---|---|---|---|")
    for name, samples in results.items():
        p50, p99, worst = statistics.median(samples), percentile(samples, 0.99), max(samples)
        print(
            f"| {name} | {p50:.2f} | {p99:.2f} | {worst:.2f} "
            f"| {p50 - baseline:+.2f} | {worst - baseline:+.2f} |"
        )


if __name__ == "__main__":
    main()
