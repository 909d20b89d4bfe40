"""CPU time one request costs in-process, through the whole WSGI stack, against the floor.

    .venv/bin/python bench/request_cpu.py --users 10000 /users /users/5005 /healthz

Uses the database bench/run.py built for that scale and the bench's Redis database.
Signs a token for the bench's staff user, warms each path, then calls the Django WSGI
application in a loop and reads `time.process_time()`: best of 5 batches. The floor is
bench/floor_app.py's view, in a child process (it configures settings of its own).
No network and no gunicorn: this isolates what the application itself costs.
"""

import argparse
import io
import os
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def environ(path, token=None):
    path, _, query = path.partition("?")
    env = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
    }
    if token:
        env["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return env


def cpu_per_request(application, path, token=None, batch=800, batches=5):
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    for _ in range(200):
        b"".join(application(environ(path, token), start_response))
    best = float("inf")
    for _ in range(batches):
        started = time.process_time()
        for _ in range(batch):
            b"".join(application(environ(path, token), start_response))
        best = min(best, (time.process_time() - started) / batch)
    return best * 1e6, statuses[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--floor", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", default=["/users"])
    args = parser.parse_args()
    if args.floor:
        from bench.floor_app import application

        micros, status = cpu_per_request(application, "/")
        print(f"| plain Django JsonResponse (floor) | {micros:.0f} | {status} |")
        return
    from bench.run import STAFF_EMAIL, app_env

    os.environ.update(app_env(f"users_posts_bench_{args.users}"))
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    from rest_framework_simplejwt.tokens import AccessToken

    from users.models import User

    token = str(AccessToken.for_user(User.objects.get(email=STAFF_EMAIL)))
    print("| request | CPU µs per request | status |\n|---|---|---|")
    subprocess.run([sys.executable, __file__, "--floor"], check=True)  # noqa: S603
    for path in args.paths:
        micros, status = cpu_per_request(application, path, token)
        print(f"| GET {path} | {micros:.0f} | {status} |")


if __name__ == "__main__":
    main()
