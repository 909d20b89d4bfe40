"""Load without loss: concurrent clients write and read through gunicorn, then every
acknowledged write is checked against PostgreSQL and every cached page against a
fresh rebuild.

Bounded: loopback only, LOAD_SECONDS of traffic (20 by default; set it higher for a
longer local run). The figures go to artifacts/load-summary.json and the terminal.
"""

import json
import os
import random
import threading
import time
import urllib.error
from collections import Counter
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.db.models import Count
from django.db.models.functions import Lower
from rest_framework_simplejwt.tokens import AccessToken

from core import cache as api_cache
from posts.models import Post
from users.models import User
from users.tests.factories import UserFactory

from .figures import ARTIFACTS, record
from .servers import Gunicorn, fetch, service_env

pytestmark = pytest.mark.django_db(transaction=True)

LOAD_SECONDS = float(os.environ.get("LOAD_SECONDS", "20"))
STAFF_CLIENTS = 4
MEMBER_CLIENTS = 2
SHARED_EMAILS = 8  # raced for by every staff client: exactly one may win each


REFUSED_RETRIES = Counter()
_refused_lock = threading.Lock()


def fetch_once_sent(*args, **kwargs):
    """`fetch`, retrying (a bounded number of times) a connection refused before any
    byte was sent: no request reached the server, so nothing is repeated. Each such
    retry is counted and reported."""
    for attempt in range(3):
        try:
            return fetch(*args, **kwargs)
        except urllib.error.URLError as exc:
            if not isinstance(exc.reason, ConnectionRefusedError) or attempt == 2:
                raise
            with _refused_lock:
                REFUSED_RETRIES["connections_refused_and_retried"] += 1
            time.sleep(0.2)
    raise AssertionError("unreachable")


@dataclass
class Ledger:
    """What the server acknowledged to one client thread (so its last write is known).

    Each thread owns the rows it created, so no other thread changes them and the
    last acknowledged write is the state the database must hold.
    """

    users: dict[int, dict] = field(default_factory=dict)  # id -> last acknowledged state
    deleted_users: set[int] = field(default_factory=set)
    posts: dict[int, dict] = field(default_factory=dict)
    deleted_posts: set[int] = field(default_factory=set)
    shared_wins: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    unexpected: list = field(default_factory=list)
    list_urls: set[str] = field(default_factory=set)
    errors: list = field(default_factory=list)


class Client:
    """One thread's worth of API calls, each checked against the statuses it may get."""

    def __init__(self, base, user, seed):
        self.base = base
        self.headers = {
            "Authorization": f"Bearer {AccessToken.for_user(user)}",
            "Content-Type": "application/json",
        }
        self.user = user
        self.ledger = Ledger()
        self.random = random.Random(seed)  # noqa: S311 - a reproducible workload

    def call(self, method, path, body=None, expect=(200,)):
        data = json.dumps(body).encode() if body is not None else None
        try:
            status, _, raw = fetch_once_sent(
                f"{self.base}{path}", self.headers, data, method=method, timeout=30
            )
        except OSError as exc:  # a client-side timeout: the write's fate is unknown
            self.ledger.errors.append((method, path, repr(exc)))
            return None, None
        self.ledger.statuses[status] += 1
        if status not in expect:
            self.ledger.unexpected.append((method, path, status, raw[:300]))
        return status, (json.loads(raw) if raw else None)

    def read_lists(self):
        choices = [
            f"/users?skip={self.random.randrange(0, 40)}&limit={self.random.choice([5, 10, 50])}",
            "/users/search?name=load",
            "/users/stats",
            f"/posts?limit={self.random.choice([10, 100])}",
            f"/posts?user_id={self.user.pk}",
            "/posts/stats?limit=20",
        ]
        path = self.random.choice(choices)
        self.ledger.list_urls.add(path)
        self.call("GET", path)

    def create_post(self, title, author=None):
        """POST a post (for `author`, or the caller when None) and note it if acknowledged."""
        payload = {"title": title, "content": "c"}
        if author is not None:
            payload["user_id"] = author
        status, body = self.call("POST", "/posts", payload, expect=(201,))
        if status == 201:
            self.ledger.posts[body["id"]] = {"user_id": author or self.user.pk, "title": title}

    def edit_post(self, method, pk, title):
        """PATCH or PUT one of this client's posts and note the new title if acknowledged."""
        status, _ = self.call(method, f"/posts/{pk}", {"title": title, "content": "c2"})
        if status == 200:
            self.ledger.posts[pk]["title"] = title

    def delete_post(self, pk):
        """DELETE one of this client's posts and note it gone if acknowledged."""
        status, _ = self.call("DELETE", f"/posts/{pk}", expect=(204,))
        if status == 204:
            self.ledger.posts.pop(pk)
            self.ledger.deleted_posts.add(pk)


class StaffClient(Client):
    def step(self, n, i):
        own_users = list(self.ledger.users)
        own_posts = list(self.ledger.posts)
        roll = self.random.random()
        if roll < 0.15:
            email = f"load-{n}-{i}@example.com"
            status, body = self.call(
                "POST", "/users", {"name": f"load {n} {i}", "email": email}, expect=(201,)
            )
            if status == 201:
                self.ledger.users[body["id"]] = {"name": body["name"], "email": email}
        elif roll < 0.2:
            k = self.random.randrange(SHARED_EMAILS)
            email = (
                f"Shared-{k}@Example.com"
                if self.random.random() < 0.5
                else f"shared-{k}@example.com"
            )
            status, body = self.call(
                "POST", "/users", {"name": f"shared {k}", "email": email}, expect=(201, 400)
            )
            if status == 201:
                self.ledger.shared_wins[k] += 1
        elif roll < 0.3 and own_users:
            pk = self.random.choice(own_users)
            name = f"renamed {n} {i}"
            status, _ = self.call("PATCH", f"/users/{pk}", {"name": name})
            if status == 200:
                self.ledger.users[pk]["name"] = name
        elif roll < 0.34 and own_users:
            pk = self.random.choice(own_users)
            status, _ = self.call("DELETE", f"/users/{pk}", expect=(204,))
            if status == 204:
                self.ledger.deleted_users.add(pk)
                self.ledger.users.pop(pk)
                for post_pk in [p for p, v in self.ledger.posts.items() if v["user_id"] == pk]:
                    self.ledger.posts.pop(post_pk)
                    self.ledger.deleted_posts.add(post_pk)
        elif roll < 0.5 and own_users:
            self.create_post(f"post {n} {i}", author=self.random.choice(own_users))
        elif roll < 0.58 and own_posts:
            self.edit_post("PATCH", self.random.choice(own_posts), f"edited {n} {i}")
        elif roll < 0.62 and own_posts:
            self.delete_post(self.random.choice(own_posts))
        else:
            self.read_lists()


class MemberClient(Client):
    def step(self, n, i):
        own_posts = list(self.ledger.posts)
        roll = self.random.random()
        if roll < 0.2:
            self.create_post(f"member post {n} {i}")
        elif roll < 0.3 and own_posts:
            self.edit_post("PUT", self.random.choice(own_posts), f"member edit {n} {i}")
        elif roll < 0.35 and own_posts:
            self.delete_post(self.random.choice(own_posts))
        else:
            self.read_lists()


def merge(ledgers):
    """All threads' acknowledgements in one ledger."""
    total = Ledger()
    for ledger in ledgers:
        total.users.update(ledger.users)
        total.deleted_users |= ledger.deleted_users
        total.posts.update(ledger.posts)
        total.deleted_posts |= ledger.deleted_posts
        total.shared_wins.update(ledger.shared_wins)
        total.statuses.update(ledger.statuses)
        total.unexpected += ledger.unexpected
        total.list_urls |= ledger.list_urls
        total.errors += ledger.errors
    return total


def run_clients(clients, seconds):
    """Writes and reads for `seconds`, then a short read-only tail: the pages cached by
    readers racing the very last writes are the ones a lost invalidation would leave."""
    deadline = time.monotonic() + seconds
    writes_end = deadline - min(3.0, seconds / 5)

    def loop(n, client):
        i = 0
        while (now := time.monotonic()) < deadline:
            i += 1
            if now < writes_end:
                client.step(n, i)
            else:
                client.read_lists()

    threads = [threading.Thread(target=loop, args=(n, c)) for n, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    assert not any(thread.is_alive() for thread in threads)


def test_concurrent_writes_and_reads_lose_nothing_and_leave_no_stale_page(tmp_path):
    staff = UserFactory(is_staff=True, email="load-staff@example.com")
    members = [UserFactory(email=f"load-member-{n}@example.com") for n in range(MEMBER_CLIENTS)]
    env = service_env(
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        API_THROTTLE_USER="1000000/min",
        WEB_CONCURRENCY="3",
        GUNICORN_THREADS="4",
    )
    started = time.monotonic()
    with Gunicorn(env, tmp_path / "gunicorn.log") as server:
        clients = [StaffClient(server.base, staff, seed=n) for n in range(STAFF_CLIENTS)] + [
            MemberClient(server.base, member, seed=100 + n) for n, member in enumerate(members)
        ]
        run_clients(clients, LOAD_SECONDS)
        elapsed = time.monotonic() - started
        ledger = merge([client.ledger for client in clients])
        assert server.process.poll() is None, "\n".join(server.log_lines()[-30:])
        assert ledger.errors == [], (ledger.errors[:5], "\n".join(server.log_lines()[-30:]))

        # Every cached list page equals a fresh rebuild from the database.
        pages, hits = {}, 0
        headers = clients[0].headers
        for url in sorted(ledger.list_urls):
            status, response_headers, body = fetch_once_sent(f"{server.base}{url}", headers)
            assert status == 200
            hits += response_headers["X-Cache"] == "HIT"
            pages[url] = body
        assert api_cache.invalidate_all()
        stale = []
        for url, cached in pages.items():
            status, response_headers, fresh = fetch_once_sent(f"{server.base}{url}", headers)
            assert (status, response_headers["X-Cache"]) == (200, "MISS")
            if fresh != cached:
                stale.append(url)

    requests = sum(ledger.statuses.values())
    server_errors = sum(n for status, n in ledger.statuses.items() if status >= 500)

    # The database holds exactly the acknowledged writes.
    lost = []
    live_users = {u.pk: u for u in User.objects.filter(pk__in=ledger.users)}
    for pk, state in ledger.users.items():
        user = live_users.get(pk)
        if user is None or (user.name, user.email) != (state["name"], state["email"]):
            lost.append(("user", pk, state))
    resurrected = list(
        User.objects.filter(pk__in=ledger.deleted_users).values_list("pk", flat=True)
    )
    live_posts = {p.pk: p for p in Post.objects.filter(pk__in=ledger.posts)}
    for pk, state in ledger.posts.items():
        post = live_posts.get(pk)
        if post is None or (post.title, post.user_id) != (state["title"], state["user_id"]):
            lost.append(("post", pk, state))
    resurrected += list(
        Post.objects.filter(pk__in=ledger.deleted_posts).values_list("pk", flat=True)
    )
    # Nothing the clients were not told about: no rows beyond the acknowledged ones.
    unacknowledged_users = User.objects.filter(email__startswith="load-").exclude(
        pk__in=[staff.pk, *[m.pk for m in members], *ledger.users]
    )
    authors = [staff.pk, *[m.pk for m in members], *ledger.users]
    unacknowledged_posts = Post.objects.filter(user__in=authors).exclude(pk__in=ledger.posts)
    duplicates = list(
        User.objects.annotate(key=Lower("email"))
        .values("key")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    shared_rows = User.objects.filter(email__istartswith="shared-").count()

    summary = {
        "seconds": round(elapsed, 1),
        "clients": len(clients),
        "gunicorn_workers": 3,
        "requests": requests,
        "requests_per_second": round(requests / elapsed),
        "statuses": {str(k): v for k, v in sorted(ledger.statuses.items())},
        "server_errors": server_errors,
        "client_errors": len(ledger.errors),
        "users_created": len(ledger.users) + len(ledger.deleted_users),
        "posts_created": len(ledger.posts) + len(ledger.deleted_posts),
        "rows_deleted": len(ledger.deleted_users) + len(ledger.deleted_posts),
        "duplicate_email_races_won": sum(ledger.shared_wins.values()),
        "rows_checked": len(ledger.users)
        + len(ledger.posts)
        + len(ledger.deleted_users)
        + len(ledger.deleted_posts),
        "cached_pages_compared": len(pages),
        "cached_pages_that_were_hits": hits,
        "stale_pages": len(stale),
        "connections_refused_and_retried": REFUSED_RETRIES["connections_refused_and_retried"],
        "lost": len(lost) + len(resurrected),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "load-summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print("load summary:", json.dumps(summary))  # the figures, shown with -s
    record("load", **{k: v for k, v in summary.items() if isinstance(v, int)})

    assert server_errors == 0, ledger.unexpected
    assert ledger.unexpected == []
    assert ledger.errors == []
    assert lost == []
    assert resurrected == []
    assert list(unacknowledged_users) == []
    assert list(unacknowledged_posts) == []
    assert duplicates == []
    assert all(n == 1 for n in ledger.shared_wins.values()), ledger.shared_wins
    assert shared_rows == len(ledger.shared_wins)
    assert stale == []
    assert summary["users_created"] > 10, "the load must write"
    assert summary["posts_created"] > 10, "the load must write"
