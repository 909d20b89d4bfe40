"""The benchmark: build data, serve with the project's gunicorn config, load every endpoint.

    .venv/bin/python bench/run.py --users 10000 --posts-per-user 5 --duration 15
    .venv/bin/python bench/run.py --users 1000000 --posts-per-user 5 --duration 15 --single

Steps, all in one run:
1. A database of its own per scale (`users_posts_bench_<users>`), filled once with
   `manage.py seed_demo_data` (kept for later runs; `--rebuild` starts over).
2. The API under `gunicorn -c gunicorn.conf.py config.wsgi` (2 workers × 2 threads by
   default, as deployed: authentication and throttling on; the user rate is raised
   through API_THROTTLE_USER so the throttle runs but does not refuse the load).
3. A staff user signs in; every endpoint is loaded with `wrk -t2 -c32` for the duration.
4. The plain-Django floor (bench/floor_app.py: one JsonResponse view), and the issue's
   reference points (a cache.get view, a DRF APIView, both together), under the same
   gunicorn settings, in the same run.
5. With `--single`: page caching off (CACHE_PAGES=0), every read under the same wrk
   load (the database path's throughput) and from one client (`wrk -t1 -c1`, its
   latency).
Writes a markdown report (requests/s, p50, p99, errors, peak worker RSS, machine facts)
to bench/results/<users>-users.md and prints it.
"""

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS = BASE_DIR / "bench" / "results"
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
STAFF_EMAIL, STAFF_PASSWORD = "bench-staff@example.com", "bench-staff-password-1"

POST_USERS_LUA = """
local counter = 0
local run = tostring(os.time())
local thread_ids = 0
setup = function(thread)
  thread:set("tid", thread_ids)
  thread_ids = thread_ids + 1
end
request = function()
  counter = counter + 1
  local body = string.format(
    '{"name": "Bench %d", "email": "bench-%s-%d-%d@example.net"}', counter, run, tid, counter)
  return wrk.format("POST", "/users", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer TOKEN",
  }, body)
end
"""


# bench/floor_app.py's other views: what the issue quotes "for scale" beside the floor.
REFERENCE_POINTS = [
    ("Django view returning a django-redis cache.get", "/cache"),
    ("DRF APIView, no authentication", "/drf"),
    ("DRF APIView returning a cache.get, no authentication", "/drf-cache"),
]


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def database_url(name):
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def app_env(db_name, **extra):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_ENV_FILE": os.devnull,
        "DJANGO_SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "DATABASE_URL": database_url(db_name),
        "REDIS_URL": "redis://127.0.0.1:6379/3",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "API_THROTTLE_USER": "100000000/min",
        "LOG_LEVEL": "WARNING",
    }
    env.update(extra)
    return env


def manage(env, *args):
    subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)  # noqa: S603


def prepare_database(args):
    name = f"users_posts_bench_{args.users}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and args.rebuild:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')
    env = app_env(name)
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    with psycopg.connect(database_url(name)) as conn:
        users = conn.execute("SELECT count(*) FROM users_user").fetchone()[0]
    seed_seconds = None
    if users < args.users:
        log(f"seeding {args.users} users x {args.posts_per_user} posts into {name}")
        started = time.perf_counter()
        manage(
            env,
            "seed_demo_data",
            "--users",
            str(args.users),
            "--posts-per-user",
            str(args.posts_per_user),
        )
        seed_seconds = time.perf_counter() - started
        log(f"seeded in {seed_seconds:.0f} s")
    with psycopg.connect(database_url(name), autocommit=True) as conn:
        # Users created by earlier runs' POST load (they hold no tokens, unlike staff).
        conn.execute("DELETE FROM users_user WHERE email LIKE 'bench-%@example.net'")
        staff_exists = conn.execute(
            "SELECT 1 FROM users_user WHERE email = %s", [STAFF_EMAIL]
        ).fetchone()
    if not staff_exists:
        manage(
            {
                **env,
                "DJANGO_SUPERUSER_EMAIL": STAFF_EMAIL,
                "DJANGO_SUPERUSER_NAME": "Bench Staff",
                "DJANGO_SUPERUSER_PASSWORD": STAFF_PASSWORD,
            },
            "createsuperuser",
            "--noinput",
        )
    return name, seed_seconds


def pick_targets(db_name, users):
    """A user with posts, and a name fragment with about 10 (or at most 100) matches."""
    with psycopg.connect(database_url(db_name)) as conn:
        user_id = conn.execute(
            "SELECT id FROM users_user WHERE post_count > 0 ORDER BY id LIMIT 1 OFFSET %s",
            [users // 2],
        ).fetchone()[0]
        # Last names at small scale (~10 each), full names at large scale (a handful each).
        if users <= 100_000:
            row = conn.execute(
                "SELECT split_part(name, ' ', 2) AS frag, count(*) FROM users_user "
                "GROUP BY 1 HAVING count(*) BETWEEN 8 AND 12 ORDER BY 1 LIMIT 1"
            ).fetchone()
        else:
            row = conn.execute(
                "SELECT name, count(*) FROM users_user WHERE id % 997 = 0 "
                "GROUP BY 1 HAVING count(*) >= 1 ORDER BY 2 DESC, 1 LIMIT 1"
            ).fetchone()
        fragment = row[0]
        matches = conn.execute(
            "SELECT count(*) FROM users_user WHERE upper(name) LIKE upper(%s)", [f"%{fragment}%"]
        ).fetchone()[0]
    return user_id, fragment, matches


@contextlib.contextmanager
def gunicorn(app, env, port):
    log_file = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603
        [GUNICORN, "-c", "gunicorn.conf.py", app],
        cwd=BASE_DIR,
        env={**env, "PORT": str(port), "HOST": "127.0.0.1"},
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1):  # noqa: S310
                    break
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(Path(log_file.name).read_text())
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        log_file.close()


def worker_pids(master_pid):
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def rss_mb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return 0.0
    return 0.0


class RssSampler:
    """The highest RSS any worker of a gunicorn master reaches while sampling."""

    def __init__(self, master_pid):
        self.master_pid = master_pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for pid in worker_pids(self.master_pid):
                self.peak = max(self.peak, rss_mb(pid))
            time.sleep(0.25)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def to_ms(text):
    value, unit = float(re.match(r"[\d.]+", text).group()), re.search(r"[a-z]+", text).group()
    return value * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def wrk(url, duration, threads, connections, token=None, script=None):
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    if script:
        command += ["-s", script]
    output = subprocess.run(  # noqa: S603
        [*command, url], capture_output=True, text=True, check=True
    ).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    if set(latency) != {"50", "99"}:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": to_ms(latency["50"]),
        "p99_ms": to_ms(latency["99"]),
        "errors": (int(non_2xx.group(1)) if non_2xx else 0)
        + (sum(map(int, socket.groups())) if socket else 0),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
    }


def sign_in(port):
    request = urllib.request.Request(  # noqa: S310
        f"http://127.0.0.1:{port}/auth/token",
        data=json.dumps({"email": STAFF_EMAIL, "password": STAFF_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.load(response)["access"]


def machine_facts():
    def first_line(command):
        try:
            result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
            return result.stdout.split("\n")[0]
        except OSError:
            return "n/a"

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    with psycopg.connect(PG_ADMIN) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
    return {
        "cpu": f"{os.cpu_count()} × {cpu}",
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": pg,
        "redis": first_line(["redis-server", "--version"]),
        "wrk": first_line(["wrk", "--version"]),
    }


def main():
    parser = argparse.ArgumentParser(description="Benchmark the API (see module docstring).")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--posts-per-user", type=int, default=5)
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", default=os.environ.get("WEB_CONCURRENCY", "2"))
    parser.add_argument("--threads", default=os.environ.get("GUNICORN_THREADS", "2"))
    parser.add_argument("--single", action="store_true", help="also single-client, cache off")
    parser.add_argument("--rebuild", action="store_true", help="drop and re-seed the data")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt install wrk")

    db_name, seed_seconds = prepare_database(args)
    user_id, fragment, matches = pick_targets(db_name, args.users)
    base = f"http://127.0.0.1:{args.port}"
    quoted = urllib.parse.quote(fragment)
    reads = [
        ("GET /users (cached page)", "/users"),
        ("GET /users/{id}", f"/users/{user_id}"),
        (f"GET /users/search?name={fragment} ({matches} matches)", f"/users/search?name={quoted}"),
        ("GET /users/stats", "/users/stats"),
        ("GET /posts?user_id=…", f"/posts?user_id={user_id}"),
        ("GET /posts/stats", "/posts/stats"),
        ("GET /users?skip=900000", f"/users?skip={min(900_000, args.users - 10)}"),
    ]
    gunicorn_env = {"WEB_CONCURRENCY": str(args.workers), "GUNICORN_THREADS": str(args.threads)}
    rows, uncached_rows, single_rows, peak_rss = [], [], [], 0.0

    log("floor: plain Django JsonResponse, and the reference points beside it")
    references = []
    with gunicorn("bench.floor_app:application", app_env(db_name, **gunicorn_env), args.port) as g:
        wrk(base + "/", 2, 2, args.connections)
        with RssSampler(g.pid):
            floor = wrk(base + "/", args.duration, 2, args.connections)
        for label, path in REFERENCE_POINTS:
            wrk(base + path, 2, 2, args.connections)
            references.append((label, wrk(base + path, args.duration, 2, args.connections)))

    with gunicorn("config.wsgi", app_env(db_name, **gunicorn_env), args.port) as g:
        token = sign_in(args.port)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(POST_USERS_LUA.replace("TOKEN", token))
        for label, path in reads:
            log(label)
            wrk(base + path, 2, 2, args.connections, token)  # warm the caches
            with RssSampler(g.pid) as sampler:
                result = wrk(base + path, args.duration, 2, args.connections, token)
            peak_rss = max(peak_rss, sampler.peak)
            rows.append((label, result, sampler.peak))
        log("POST /users")
        with RssSampler(g.pid) as sampler:
            result = wrk(base + "/users", args.duration, 2, args.connections, script=script.name)
        rows.append(("POST /users", result, sampler.peak))
        peak_rss = max(peak_rss, sampler.peak)

    if args.single:
        env = app_env(db_name, CACHE_PAGES="0", **gunicorn_env)
        with gunicorn("config.wsgi", env, args.port) as g:
            token = sign_in(args.port)
            for label, path in reads:
                label = label.replace(" (cached page)", "")
                log(f"no page cache: {label}")
                wrk(base + path, 2, 2, args.connections, token)
                seconds = max(5, args.duration // 2)
                with RssSampler(g.pid) as sampler:
                    loaded = wrk(base + path, seconds, 2, args.connections, token)
                    single = wrk(base + path, seconds, 1, 1, token)
                peak_rss = max(peak_rss, sampler.peak)
                uncached_rows.append((label, loaded, sampler.peak))
                single_rows.append((label, single, sampler.peak))

    report = render(
        args,
        floor,
        references,
        rows,
        uncached_rows,
        single_rows,
        peak_rss,
        seed_seconds,
        machine_facts(),
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{args.users}-users.md"
    out.write_text(report)
    print(report)
    log(f"written to {out.relative_to(BASE_DIR)}")


def table_row(label, result, rss=None):
    """One markdown row: requests/s, p50, p99, errors, and the RSS column when given."""
    cells = [
        label,
        f"{result['rps']:,.0f}",
        f"{result['p50_ms']:.2f}",
        f"{result['p99_ms']:.2f}",
        str(result["errors"]),
    ]
    if rss is not None:
        cells.append(rss)
    return "| " + " | ".join(cells) + " |"


def render(
    args, floor, references, rows, uncached_rows, single_rows, peak_rss, seed_seconds, facts
):
    lines = [
        f"### {args.users:,} users × {args.posts_per_user} posts "
        f"({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"`{' '.join(['.venv/bin/python', 'bench/run.py', *sys.argv[1:]])}` — gunicorn "
        f"{args.workers} workers × {args.threads} threads (gthread), "
        f"`wrk -t2 -c{args.connections} -d{args.duration}s`, JWT auth and throttling on.",
        "",
        "| endpoint | requests/s | p50 ms | p99 ms | errors | peak worker RSS MB |",
        "|---|---|---|---|---|---|",
        table_row("plain Django JsonResponse (floor)", floor, "—"),
        *(table_row(label, result, "—") for label, result in references),
        *(table_row(label, result, f"{rss:.0f}") for label, result, rss in rows),
    ]
    table_head = ["| endpoint | requests/s | p50 ms | p99 ms | errors |", "|---|---|---|---|---|"]
    if uncached_rows:
        lines += [
            "",
            f"Page caching off (`CACHE_PAGES=0`), the same load (`wrk -t2 -c{args.connections}`):",
            "",
            *table_head,
            *(table_row(label, result) for label, result, _rss in uncached_rows),
        ]
    if single_rows:
        lines += [
            "",
            "Single client (`wrk -t1 -c1`), page caching off (`CACHE_PAGES=0`):",
            "",
            *table_head,
            *(table_row(label, result) for label, result, _rss in single_rows),
        ]
    lines += ["", f"Peak RSS of any gunicorn worker during the run: {peak_rss:.0f} MB."]
    if seed_seconds is not None:
        lines.append(f"Seeding with `manage.py seed_demo_data` took {seed_seconds:.0f} s.")
    lines += ["", "Machine: " + "; ".join(f"{k} {v}" for k, v in facts.items()) + ".", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
