"""Caching of the read-heavy views against the real Redis: hits, ETags, invalidation."""

import io
import json
import threading

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from core import cache as api_cache
from core import pages
from posts.models import Post
from posts.tests.factories import PostFactory
from users.models import User
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CACHED_PATHS = [
    "/users",
    "/users?skip=1&limit=2",
    "/users/search?name=member",
    "/users/stats",
    "/users/{user}",
    "/posts",
    "/posts?user_id={user}",
    "/posts/stats",
]


@pytest.fixture
def data(user):
    for author in (user, UserFactory(), UserFactory()):
        PostFactory.create_batch(2, user=author)
    return user


class TestHitsAndMisses:
    @pytest.mark.parametrize("path", CACHED_PATHS)
    def test_second_read_is_a_hit_without_sql(
        self, member_client, data, path, django_assert_num_queries
    ):
        url = path.format(user=data.pk)
        miss = member_client.get(url)
        assert miss.status_code == 200
        assert miss["X-Cache"] == "MISS"
        with django_assert_num_queries(0):
            hit = member_client.get(url)
        assert hit["X-Cache"] == "HIT"
        assert hit.content == miss.content
        assert hit["ETag"] == miss["ETag"]
        assert hit["Content-Type"] == "application/json"

    def test_users_pages_are_keyed_visibly_by_role_skip_and_limit(
        self, member_client, staff_client, data
    ):
        member_client.get("/users?skip=0&limit=10")
        member_client.get("/users?limit=3&skip=2")
        staff_client.get("/users?limit=3&skip=2")
        keys = {k.decode() for k in get_redis_connection("default").keys("*")}
        assert any(":users:member:0:10:" in key for key in keys), keys
        assert any(":users:member:2:3:" in key for key in keys), keys
        assert any(":users:staff:2:3:" in key for key in keys), keys

    def test_parameter_order_does_not_split_the_cache(self, member_client, data):
        member_client.get("/users?skip=1&limit=2")
        assert member_client.get("/users?limit=2&skip=1")["X-Cache"] == "HIT"

    @pytest.mark.parametrize("path", ["/users", "/users/search?name=member", "/posts"])
    def test_bytes_are_the_same_for_every_caller_of_one_role(
        self, member_client, staff_client, data, path
    ):
        first = member_client.get(path)
        other_member = APIClient()
        other_member.force_authenticate(UserFactory())
        response = other_member.get(path)
        assert response["X-Cache"] == "HIT"
        assert response.content == first.content
        staff_first = staff_client.get(path)
        other_staff = APIClient()
        other_staff.force_authenticate(UserFactory(is_staff=True))
        response = other_staff.get(path)
        assert response["X-Cache"] == "HIT"
        assert response.content == staff_first.content

    def test_user_lists_are_cached_once_per_role_and_never_mix(
        self, member_client, staff_client, data
    ):
        member_page = member_client.get("/users")
        staff_page = staff_client.get("/users")
        assert (member_page["X-Cache"], staff_page["X-Cache"]) == ("MISS", "MISS")
        assert b'"email"' not in member_page.content
        assert data.email.encode() in staff_page.content
        assert member_client.get("/users").content == member_page.content
        assert staff_client.get("/users").content == staff_page.content

    def test_one_users_page_shows_the_email_only_to_them_and_staff_and_is_never_per_caller(
        self, data
    ):
        def client_of(user):
            client = APIClient()
            client.force_authenticate(user)
            return client

        path = f"/users/{data.pk}"
        others = [client_of(UserFactory()) for _ in range(2)]
        staff = [client_of(UserFactory(is_staff=True)) for _ in range(2)]
        seen = [
            (response["X-Cache"], "email" in response.json())
            for response in (
                client_of(data).get(path),  # themselves: with the email
                others[0].get(path),  # another member: without, whatever was cached
                others[1].get(path),  # the same bytes as for the first other member
                staff[0].get(path),  # staff: the page with the email, as its owner got it
                staff[1].get(path),
                client_of(data).get(path),
            )
        ]
        assert seen == [
            ("MISS", True),
            ("MISS", False),
            ("HIT", False),
            ("HIT", True),
            ("HIT", True),
            ("HIT", True),
        ]

    def test_host_and_scheme_are_part_of_the_key(self, member_client, data):
        member_client.get("/users?limit=1")
        other_host = member_client.get("/users?limit=1", HTTP_HOST="localhost")
        assert other_host["X-Cache"] == "MISS"
        assert other_host.json()["next"].startswith("http://localhost/")
        https = member_client.get("/users?limit=1", secure=True)
        assert https["X-Cache"] == "MISS"
        assert https.json()["next"].startswith("https://testserver/")

    @pytest.mark.parametrize("host", ["LOCALHOST", "localhost:1", "localhost:2", "TestServer"])
    def test_a_host_spelled_another_way_is_served_but_stores_nothing(
        self, member_client, data, host
    ):
        redis = get_redis_connection("default")
        before = set(redis.keys("*"))
        for _ in range(2):
            response = member_client.get("/users?limit=1", HTTP_HOST=host)
            assert response.status_code == 200
            assert response.get("X-Cache") != "HIT"
        assert not {k for k in set(redis.keys("*")) - before if b":users:" in k}

    def test_a_page_past_the_last_one_stores_nothing(self, member_client, data):
        redis = get_redis_connection("default")
        before = set(redis.keys("*"))
        for skip in (10**6, 10**12, 2**62):
            response = member_client.get(f"/users?skip={skip}")
            assert response.status_code == 200
            assert response.json()["results"] == []
        assert not {k for k in set(redis.keys("*")) - before if b":users:" in k}

    @pytest.mark.parametrize("path", ["/users/0{user}", "/users/00{user}", "/posts/0{post}"])
    def test_an_id_with_leading_zeros_is_404(self, member_client, data, path):
        post = Post.objects.filter(user=data).first()
        response = member_client.get(path.format(user=data.pk, post=post.pk))
        assert response.status_code == 404

    def test_errors_are_not_cached(self, member_client):
        assert member_client.get("/users?limit=0").status_code == 400
        assert member_client.get("/users?limit=0").status_code == 400

    def test_anonymous_callers_never_reach_the_cache(self, member_client, data, api_client):
        member_client.get("/users")
        response = api_client.get("/users")
        assert response.status_code == 401
        assert "X-Cache" not in response

    def test_the_browsable_api_is_not_cached(self, member_client, data):
        member_client.get("/users")
        response = member_client.get("/users", HTTP_ACCEPT="text/html")
        assert response.status_code == 200
        assert "X-Cache" not in response
        assert b"<html" in response.content.lower()


class TestQueryStringsCannotGrowTheCache:
    """Each distinct query string would be a page of its own: only what a view reads
    may vary, and only once."""

    @pytest.fixture
    def unthrottled(self, settings):
        # No throttle counters, whose keys change with the clock's minute.
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"auth": None, "user": None},
        }

    def cached_keys(self):
        return set(get_redis_connection("default").keys("*"))

    def test_a_thousand_unknown_parameters_are_400_and_store_nothing(
        self, member_client, data, unthrottled
    ):
        paths = ["/users/stats", "/users"]
        for path in paths:  # their pages and generations exist already
            assert member_client.get(path).status_code == 200
        before = self.cached_keys()
        answers = {}
        for path in paths:
            for i in range(1000):
                response = member_client.get(path, {f"x{i}": "1"})
                answers[(path, i)] = (response.status_code, response.json())
        assert self.cached_keys() - before == set()
        assert answers == {
            (path, i): (400, {f"x{i}": ["Unknown query parameter."]})
            for path in paths
            for i in range(1000)
        }

    @pytest.mark.parametrize(
        ("path", "param", "value"),
        [
            ("/users", "skip", "0"),
            ("/users/search", "name", "a"),
            ("/users/stats", "format", "json"),
            ("/posts", "user_id", "{user}"),
            ("/posts/stats", "limit", "5"),
        ],
    )
    def test_a_repeated_parameter_is_400_and_stores_nothing(
        self, member_client, data, unthrottled, path, param, value
    ):
        assert member_client.get(path).status_code == 200
        before = self.cached_keys()
        for repeats in range(2, 100):
            response = member_client.get(path, {param: [value.format(user=data.pk)] * repeats})
            assert response.status_code == 400
            assert response.json() == {param: ["Query parameter given more than once."]}
        assert self.cached_keys() == before


class TestConditionalRequests:
    @pytest.mark.parametrize("warm", [False, True])
    def test_matching_if_none_match_is_304_without_body(self, member_client, data, warm):
        etag = member_client.get("/users")["ETag"]
        if not warm:
            api_cache.invalidate_all()
        response = member_client.get("/users", HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 304
        assert response.content == b""
        assert response["ETag"] == etag

    def test_etag_is_strong_and_changes_with_the_data(self, member_client, data):
        etag = member_client.get("/users")["ETag"]
        assert etag.startswith('"')
        assert not etag.startswith("W/")
        User.objects.filter(pk=data.pk).update(name="Renamed")
        api_cache.invalidate(api_cache.USERS)
        response = member_client.get("/users", HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 200
        assert response["ETag"] != etag

    def test_stale_etag_among_several_is_ignored(self, member_client, data):
        etag = member_client.get("/users")["ETag"]
        response = member_client.get("/users", HTTP_IF_NONE_MATCH=f'"nope", {etag}')
        assert response.status_code == 304


def reads(client, path):
    response = client.get(path)
    assert response.status_code == 200
    return response


class TestInvalidation:
    def test_user_writes_through_the_api_drop_user_pages(
        self, staff_client, django_capture_on_commit_callbacks
    ):
        reads(staff_client, "/users")
        reads(staff_client, "/users/stats")
        with django_capture_on_commit_callbacks(execute=True):
            created = staff_client.post("/users", {"name": "N", "email": "n@x.io"}).json()
        listing = reads(staff_client, "/users")
        assert listing["X-Cache"] == "MISS"
        assert created["id"] in [u["id"] for u in listing.json()["results"]]
        assert reads(staff_client, "/users/stats").json()["total_users"] == 2

        with django_capture_on_commit_callbacks(execute=True):
            staff_client.patch(f"/users/{created['id']}", {"name": "Renamed"})
        names = [u["name"] for u in reads(staff_client, "/users").json()["results"]]
        assert "Renamed" in names

        with django_capture_on_commit_callbacks(execute=True):
            staff_client.delete(f"/users/{created['id']}")
        ids = [u["id"] for u in reads(staff_client, "/users").json()["results"]]
        assert created["id"] not in ids

    def test_deleting_a_user_drops_post_pages_too(
        self, staff_client, data, django_capture_on_commit_callbacks
    ):
        before = reads(staff_client, "/posts").json()["count"]
        reads(staff_client, "/posts/stats")
        with django_capture_on_commit_callbacks(execute=True):
            staff_client.delete(f"/users/{data.pk}")
        assert reads(staff_client, "/posts").json()["count"] == before - 2
        ranking = reads(staff_client, "/posts/stats").json()["results"]
        assert data.pk not in [row["user_id"] for row in ranking]

    def test_post_writes_drop_post_pages(
        self, member_client, user, django_capture_on_commit_callbacks
    ):
        reads(member_client, "/posts")
        reads(member_client, "/posts/stats")
        reads(member_client, f"/posts?user_id={user.pk}")
        with django_capture_on_commit_callbacks(execute=True):
            post = member_client.post("/posts", {"title": "T", "content": "C"}).json()
        assert reads(member_client, f"/posts?user_id={user.pk}").json()["count"] == 1
        assert reads(member_client, "/posts/stats").json()["results"] == [
            {"user_id": user.pk, "post_count": 1}
        ]
        with django_capture_on_commit_callbacks(execute=True):
            member_client.patch(f"/posts/{post['id']}", {"title": "Edited"})
        assert reads(member_client, "/posts").json()["results"][0]["title"] == "Edited"
        with django_capture_on_commit_callbacks(execute=True):
            member_client.delete(f"/posts/{post['id']}")
        assert reads(member_client, "/posts").json()["count"] == 0

    def test_an_orm_save_as_the_admin_does_invalidates(
        self, member_client, data, django_capture_on_commit_callbacks
    ):
        reads(member_client, "/users")
        with django_capture_on_commit_callbacks(execute=True):
            data.name = "Saved in the admin"
            data.save()
        assert "Saved in the admin" in reads(member_client, "/users").content.decode()

    def test_one_users_page_follows_their_own_writes_only(
        self, staff_client, data, django_capture_on_commit_callbacks
    ):
        other = UserFactory()
        assert reads(staff_client, f"/users/{data.pk}")["X-Cache"] == "MISS"
        with django_capture_on_commit_callbacks(execute=True):
            staff_client.patch(f"/users/{other.pk}", {"name": "Someone else"})
        assert reads(staff_client, f"/users/{data.pk}")["X-Cache"] == "HIT"
        with django_capture_on_commit_callbacks(execute=True):
            staff_client.patch(f"/users/{data.pk}", {"name": "Renamed"})
        page = reads(staff_client, f"/users/{data.pk}")
        assert (page["X-Cache"], page.json()["name"]) == ("MISS", "Renamed")
        with django_capture_on_commit_callbacks(execute=True):
            staff_client.delete(f"/users/{data.pk}")
        assert staff_client.get(f"/users/{data.pk}").status_code == 404

    def test_clear_api_cache_drops_each_users_own_page_too(self, member_client, data):
        from django.core.management import call_command

        reads(member_client, f"/users/{data.pk}")
        User.objects.filter(pk=data.pk).update(name="Fixed by hand")  # no signal
        assert reads(member_client, f"/users/{data.pk}")["X-Cache"] == "HIT"  # stale until told
        call_command("clear_api_cache", stdout=io.StringIO())
        page = reads(member_client, f"/users/{data.pk}")
        assert (page["X-Cache"], page.json()["name"]) == ("MISS", "Fixed by hand")

    def test_writes_that_bypass_signals_invalidate_explicitly(self, member_client, data):
        reads(member_client, "/users")
        User.objects.update(name="Bulk")  # no signal
        assert reads(member_client, "/users")["X-Cache"] == "HIT"  # stale until told
        api_cache.invalidate(api_cache.USERS)
        assert "Bulk" in reads(member_client, "/users").content.decode()

    def test_admin_bulk_delete_invalidates(
        self, client, member_client, data, django_capture_on_commit_callbacks
    ):
        client.force_login(User.objects.create_superuser(email="r@x.io", name="R", password="p"))
        before = reads(member_client, "/posts").json()["count"]
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/admin/posts/post/",
                {
                    "action": "delete_selected",
                    "_selected_action": list(Post.objects.values_list("pk", flat=True)[:2]),
                    "post": "yes",
                },
            )
        assert response.status_code == 302
        assert reads(member_client, "/posts").json()["count"] == before - 2

    def test_admin_bulk_delete_of_users_drops_their_own_pages(
        self, client, member_client, data, django_capture_on_commit_callbacks
    ):
        client.force_login(User.objects.create_superuser(email="r@x.io", name="R", password="p"))
        doomed = UserFactory()
        reads(member_client, f"/users/{doomed.pk}")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/admin/users/user/",
                {"action": "delete_selected", "_selected_action": [doomed.pk], "post": "yes"},
            )
        assert response.status_code == 302
        assert member_client.get(f"/users/{doomed.pk}").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_write_invalidates_nothing_and_a_committed_one_does(member_client):
    cached = reads(member_client, "/users")

    def write_then_fail():
        with transaction.atomic():
            UserFactory(name="Never committed")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        write_then_fail()
    again = reads(member_client, "/users")
    assert again["X-Cache"] == "HIT"
    assert again.content == cached.content

    with transaction.atomic():
        UserFactory(name="Committed")
    assert "Committed" in reads(member_client, "/users").content.decode()


def redis_commands_during(action):
    """The Redis commands (name → calls) the cache server ran while `action()` ran."""
    redis = get_redis_connection("default")
    before = redis.info("commandstats")
    action()
    after = redis.info("commandstats")
    calls = {
        name.removeprefix("cmdstat_"): stats["calls"] - before.get(name, {"calls": 0})["calls"]
        for name, stats in after.items()
        if name != "cmdstat_info"
    }
    return {name: n for name, n in calls.items() if n}


@pytest.mark.parametrize(
    ("path", "page_reads"),
    [
        ("/users", 1),
        ("/users/stats", 1),
        ("/users/{user}", 1),
        ("/posts/stats", 1),
        ("/auth/me", 0),
    ],
)
def test_a_signed_in_cached_read_is_at_most_two_round_trips(private_redis, user, path, page_reads):
    from conftest import bearer_client

    client = bearer_client(user)
    path = path.format(user=user.pk)
    client.get(path)
    client.get(path)
    responses = []
    commands = redis_commands_during(lambda: responses.append(client.get(path)))
    assert responses[0].status_code == 200
    # Authentication reads the user's fields with their generation (one MGET); the view
    # then reads its page with its generation, if it has one, and bumps the throttle's
    # counter in one pipeline. Nothing else.
    assert commands == {"mget": 1 + page_reads, "incrby": 1, "expire": 1}


class TestStaleRaces:
    def test_a_page_read_before_a_commit_is_never_served_after_it(self, rf, data):
        request = rf.get("/users")
        key = pages.page_key(request, "users")
        _, generation = pages.lookup_page(api_cache.USERS, key)
        old_page = pages.CachedPage.of(b'{"old": true}')
        # The writer commits and invalidates while the reader is still building its page.
        api_cache.invalidate(api_cache.USERS)
        pages.store_page(key, generation, old_page)
        page, _ = pages.lookup_page(api_cache.USERS, key)
        assert page is None

    def test_invalidation_costs_the_same_with_ten_or_ten_thousand_pages(self, private_redis):
        # A Redis of its own: command statistics are per server.
        def commands_for_invalidation(page_count):
            _, generation = pages.lookup_page(api_cache.USERS, "users:probe")
            page = pages.CachedPage.of(b"{}")
            for i in range(page_count):
                pages.store_page(f"users:{i}:10:x", generation, page)
            return redis_commands_during(lambda: api_cache.invalidate(api_cache.USERS))

        small, large = commands_for_invalidation(10), commands_for_invalidation(10_000)
        assert small == large
        assert not {"keys", "scan", "del"} & set(large)


@pytest.mark.django_db(transaction=True)
def test_racing_readers_and_writers_end_with_every_cached_page_equal_to_the_database():
    staff = UserFactory(is_staff=True)
    for _ in range(15):
        PostFactory(user=UserFactory())
    pages = ["/users?limit=5", "/users?skip=5&limit=5", "/users/stats", "/posts", "/posts/stats"]
    stop = threading.Event()
    errors = []

    def client():
        c = APIClient()
        c.force_authenticate(staff)
        return c

    def reader():
        c = client()
        try:
            while not stop.is_set():
                for page in pages:
                    if c.get(page).status_code != 200:
                        errors.append(page)
        finally:
            connection.close()

    def writer(n):
        c = client()
        try:
            for i in range(12):
                user = c.post("/users", {"name": f"W{n}-{i}", "email": f"w{n}-{i}@x.io"}).json()
                c.post("/posts", {"user_id": user["id"], "title": "T", "content": "C"})
                c.patch(f"/users/{user['id']}", {"name": f"W{n}-{i}-renamed"})
                if i % 3 == 0:
                    c.delete(f"/users/{user['id']}")
        finally:
            connection.close()

    readers = [threading.Thread(target=reader) for _ in range(3)]
    writers = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in readers:
        thread.join()
    assert errors == []

    # Whatever the cache holds now must be what the database says.
    c = client()
    for page in pages:
        cached = c.get(page)
        api_cache.invalidate_all()
        fresh = c.get(page)
        assert fresh["X-Cache"] == "MISS"
        assert json.loads(cached.content) == json.loads(fresh.content), page


class TestPageSizeCap:
    """A page over CACHE_PAGE_MAX_BYTES is served but never stored."""

    def stored_page(self, rf, path, name):
        """What the cache holds under the key of `path`'s page (None: nothing)."""
        return cache.get(pages.page_key(rf.get(path), name))

    def test_an_oversized_page_is_a_miss_every_time_and_leaves_no_key(
        self, member_client, user, settings, rf
    ):
        settings.CACHE_PAGE_MAX_BYTES = 8_000
        PostFactory.create_batch(3, user=user, content="x" * 3_000)
        first, second = member_client.get("/posts"), member_client.get("/posts")
        assert len(first.content) > 8_000
        assert (first.status_code, second.status_code) == (200, 200)
        assert (first["X-Cache"], second["X-Cache"]) == ("MISS", "MISS")
        assert first.content == second.content
        assert first["ETag"] == second["ETag"]
        assert self.stored_page(rf, "/posts", "posts") is None
        # Still answers conditional requests, from the page it just built.
        again = member_client.get("/posts", HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304

    def test_a_page_within_the_cap_is_stored(self, member_client, user, settings, rf):
        settings.CACHE_PAGE_MAX_BYTES = 8_000
        PostFactory.create_batch(3, user=user, content="x" * 1_000)
        assert member_client.get("/posts")["X-Cache"] == "MISS"
        assert member_client.get("/posts")["X-Cache"] == "HIT"
        assert self.stored_page(rf, "/posts", "posts") is not None

    def test_the_default_cap_keeps_a_page_of_maximal_posts_out(
        self, member_client, user, rf, settings
    ):
        assert 256 * 1024 <= settings.CACHE_PAGE_MAX_BYTES <= 1024 * 1024
        # Ten posts at the content limit, in four-byte characters: about 800 KB.
        PostFactory.create_batch(10, user=user, content="\U0001f44d" * 20_000)
        assert member_client.get("/posts")["X-Cache"] == "MISS"
        assert member_client.get("/posts")["X-Cache"] == "MISS"
        assert self.stored_page(rf, "/posts", "posts") is None
