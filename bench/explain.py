"""EXPLAIN (ANALYZE, BUFFERS) of every query the read endpoints run, at a given scale.

    .venv/bin/python bench/explain.py --users 1000000

Uses the database bench/run.py built for that scale. Each endpoint is requested
in-process with page caching off; every SQL statement it ran is explained and the plans
are written as markdown to bench/results/<users>-users-plans.md (and printed).
"""

import argparse
import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    args = parser.parse_args()

    from bench.run import app_env

    os.environ.update(app_env(f"users_posts_bench_{args.users}", CACHE_PAGES="0"))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from users.models import User

    settings.ALLOWED_HOSTS = ["testserver"]
    staff = User.objects.filter(is_staff=True).order_by("id").first()
    target = User.objects.filter(post_count__gt=0).order_by("id")[args.users // 2]
    name = User.objects.filter(pk=target.pk).values_list("name", flat=True).get()
    client = APIClient()
    client.force_authenticate(staff)
    endpoints = [
        "/users",
        f"/users/{target.pk}",
        f"/users/search?name={name}",
        "/users/stats",
        f"/posts?user_id={target.pk}",
        "/posts/stats",
        f"/users?skip={min(900_000, args.users - 10)}",
    ]
    out = [f"### Query plans at {args.users:,} users", ""]
    for path in endpoints:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        out += [f"#### `GET {path}` → {response.status_code}", ""]
        for query in captured.captured_queries:
            sql = query["sql"]
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                plan = "\n".join(row[0] for row in cursor.fetchall())
            out += ["```sql", sql, "```", "```", plan, "```", ""]
    report = "\n".join(out)
    results = BASE_DIR / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{args.users}-users-plans.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
