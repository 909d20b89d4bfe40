"""The Posts API through HTTP: every endpoint's success and error paths."""

import pytest

from core.tests.test_parsers import LOOSE_INTEGERS
from posts.models import Post
from users.models import User
from users.tests.factories import UserFactory

from .factories import PostFactory, post_from_before_the_content_limit

pytestmark = pytest.mark.django_db

POST_FIELDS = {"id", "user_id", "title", "content", "created_at"}


class TestCreate:
    def test_creates_for_the_given_user(self, staff_client, user):
        response = staff_client.post(
            "/posts", {"user_id": user.pk, "title": "Hi", "content": "Body"}, format="json"
        )
        assert response.status_code == 201
        body = response.json()
        assert set(body) == POST_FIELDS
        assert body["user_id"] == user.pk
        assert Post.objects.get(pk=body["id"]).user == user

    def test_user_id_left_out_means_the_caller(self, member_client, user):
        response = member_client.post("/posts/", {"title": "Hi", "content": "B"}, format="json")
        assert response.status_code == 201
        assert response.json()["user_id"] == user.pk

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"content": "B"}, "title"),
            ({"title": "T"}, "content"),
            ({"title": "", "content": "B"}, "title"),
            ({"title": "T" * 201, "content": "B"}, "title"),
            ({"title": "T", "content": ""}, "content"),
            ({"title": "T", "content": "B", "user_id": 987654}, "user_id"),
            ({"title": "T", "content": "B", "user_id": "abc"}, "user_id"),
            ({"title": "T", "content": "B", "user_id": 2**64}, "user_id"),
            ({"title": "T", "content": "B", "user_id": True}, "user_id"),
            ({"title": ["T"], "content": "B"}, "title"),
        ],
    )
    def test_invalid_fields_are_400_keyed_on_the_field(self, staff_client, payload, field):
        response = staff_client.post("/posts", payload, format="json")
        assert response.status_code == 400
        assert field in response.json()
        assert Post.objects.count() == 0

    def test_title_of_200_characters_is_allowed(self, staff_client):
        response = staff_client.post("/posts", {"title": "T" * 200, "content": "B"}, format="json")
        assert response.status_code == 201


class TestList:
    def test_lists_by_id_in_the_envelope(self, member_client):
        posts = PostFactory.create_batch(3)
        response = member_client.get("/posts")
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"count", "next", "previous", "results"}
        assert [p["id"] for p in body["results"]] == [p.pk for p in posts]
        assert set(body["results"][0]) == POST_FIELDS

    def test_filters_by_user_and_paginates(self, member_client, user):
        mine = PostFactory.create_batch(5, user=user)
        PostFactory.create_batch(2)
        body = member_client.get(f"/posts?user_id={user.pk}&skip=1&limit=2").json()
        assert body["count"] == 5
        assert [p["id"] for p in body["results"]] == [p.pk for p in mine[1:3]]
        assert body["next"] == f"http://testserver/posts?limit=2&skip=3&user_id={user.pk}"

    def test_user_without_posts_is_an_empty_page(self, member_client, user):
        assert member_client.get(f"/posts?user_id={user.pk}").json()["count"] == 0

    @pytest.mark.parametrize("value", ["abc", "1.5", "", "-1", "0", str(2**64)])
    def test_bad_user_id_is_400(self, member_client, value):
        response = member_client.get("/posts", {"user_id": value})
        if value == "":
            # An empty filter value means "no filter", as everywhere in django-filter.
            assert response.status_code == 200
        else:
            assert response.status_code == 400
            assert list(response.json()) == ["user_id"]

    @pytest.mark.parametrize(("query", "param"), [("skip=-1", "skip"), ("limit=101", "limit")])
    def test_bad_pagination_is_400(self, member_client, query, param):
        response = member_client.get(f"/posts?{query}")
        assert response.status_code == 400
        assert list(response.json()) == [param]


class TestDetail:
    def test_get(self, member_client):
        post = PostFactory()
        response = member_client.get(f"/posts/{post.pk}")
        assert response.status_code == 200
        assert response.json()["title"] == post.title

    @pytest.mark.parametrize("path", ["/posts/424242", "/posts/abc", "/posts/99999999999999999999"])
    def test_absent_is_404(self, member_client, path):
        response = member_client.get(path)
        assert response.status_code == 404
        assert "detail" in response.json()

    def test_put_replaces_title_and_content(self, member_client, user):
        post = PostFactory(user=user)
        response = member_client.put(
            f"/posts/{post.pk}", {"title": "New", "content": "Text"}, format="json"
        )
        assert response.status_code == 200
        post.refresh_from_db()
        assert (post.title, post.content) == ("New", "Text")

    def test_put_requires_every_field(self, member_client, user):
        post = PostFactory(user=user)
        response = member_client.put(f"/posts/{post.pk}", {"title": "New"}, format="json")
        assert response.status_code == 400
        assert "content" in response.json()

    def test_patch(self, member_client, user):
        post = PostFactory(user=user)
        response = member_client.patch(f"/posts/{post.pk}/", {"title": "Renamed"}, format="json")
        assert response.status_code == 200
        post.refresh_from_db()
        assert post.title == "Renamed"

    def test_a_post_cannot_be_moved_to_another_user(self, staff_client, user):
        post = PostFactory(user=user)
        other = PostFactory().user
        response = staff_client.patch(f"/posts/{post.pk}", {"user_id": other.pk}, format="json")
        assert response.status_code == 400
        assert list(response.json()) == ["user_id"]
        post.refresh_from_db()
        assert post.user == user

    def test_restating_the_same_user_id_is_fine(self, member_client, user):
        post = PostFactory(user=user)
        response = member_client.put(
            f"/posts/{post.pk}", {"user_id": user.pk, "title": "T", "content": "C"}, format="json"
        )
        assert response.status_code == 200

    def test_delete(self, member_client, user):
        post = PostFactory(user=user)
        assert member_client.delete(f"/posts/{post.pk}").status_code == 204
        assert not Post.objects.filter(pk=post.pk).exists()
        assert member_client.delete(f"/posts/{post.pk}").status_code == 404


class TestStats:
    def test_counts_per_user_most_first_then_by_user_id(self, member_client):
        users = [User.objects.create_user(email=f"s{i}@x.io", name=f"S{i}") for i in range(4)]
        a, b, c, no_posts = users
        for user, count in ((a, 2), (b, 3), (c, 2)):
            PostFactory.create_batch(count, user=user)
        body = member_client.get("/posts/stats").json()
        assert body["count"] == 3
        assert body["results"] == [
            {"user_id": b.pk, "post_count": 3},
            {"user_id": a.pk, "post_count": 2},
            {"user_id": c.pk, "post_count": 2},
        ]
        assert no_posts.pk not in [row["user_id"] for row in body["results"]]

    def test_is_paginated(self, member_client):
        for _ in range(3):
            PostFactory()
        body = member_client.get("/posts/stats?limit=2").json()
        assert body["count"] == 3
        assert len(body["results"]) == 2
        assert body["next"] == "http://testserver/posts/stats?limit=2&skip=2"

    def test_filters_by_user(self, member_client, user):
        PostFactory.create_batch(2, user=user)
        PostFactory()
        body = member_client.get(f"/posts/stats?user_id={user.pk}").json()
        assert body["results"] == [{"user_id": user.pk, "post_count": 2}]

    def test_bad_user_id_is_400(self, member_client):
        assert member_client.get("/posts/stats?user_id=x").status_code == 400


class TestCascade:
    def test_deleting_a_user_deletes_their_posts(self, staff_client, user):
        PostFactory.create_batch(3, user=user)
        kept = PostFactory()
        assert staff_client.delete(f"/users/{user.pk}").status_code == 204
        assert list(Post.objects.values_list("id", flat=True)) == [kept.pk]


class TestQueryCounts:
    """No N+1: a page of 100 costs the same queries as a page of 1."""

    @pytest.mark.parametrize("path", ["/posts", "/posts?user_id={user}", "/posts/stats"])
    def test_list_queries_do_not_grow_with_the_page(
        self, member_client, user, path, assert_page_queries_flat
    ):
        for _ in range(10):
            PostFactory.create_batch(11, user=UserFactory())
        PostFactory.create_batch(11, user=user)
        assert_page_queries_flat(member_client, path.format(user=user.pk))


class TestHostileInput:
    """Mass assignment of another user, over-long titles, ids past 64 bits."""

    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_a_member_cannot_hand_their_post_to_another_user(self, member_client, user, method):
        post = PostFactory(user=user)
        other = UserFactory()
        response = getattr(member_client, method)(
            f"/posts/{post.pk}",
            {"user_id": other.pk, "title": "T", "content": "C", "id": post.pk + 1},
            format="json",
        )
        assert response.status_code == 400
        assert list(response.json()) == ["user_id"]
        post.refresh_from_db()
        assert (post.user_id, post.title) == (user.pk, post.title)
        assert not Post.objects.filter(user=other).exists()

    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_a_member_cannot_take_over_another_users_post(self, member_client, user, method):
        post = PostFactory()
        response = getattr(member_client, method)(
            f"/posts/{post.pk}",
            {"user_id": user.pk, "title": "Mine now", "content": "C"},
            format="json",
        )
        assert response.status_code == 403
        assert Post.objects.get(pk=post.pk).user_id != user.pk

    def test_created_at_and_id_are_ignored_on_create(self, member_client, user):
        response = member_client.post(
            "/posts",
            {"title": "T", "content": "C", "id": 10**6, "created_at": "2000-01-01T00:00:00Z"},
            format="json",
        )
        assert response.status_code == 201
        post = Post.objects.get()
        assert post.pk != 10**6
        assert post.created_at.year != 2000

    @pytest.mark.parametrize("method", ["post", "put", "patch"])
    def test_an_over_long_title_is_400(self, member_client, user, method):
        post = PostFactory(user=user, title="Kept")
        path = "/posts" if method == "post" else f"/posts/{post.pk}"
        response = getattr(member_client, method)(
            path, {"title": "T" * 201, "content": "C"}, format="json"
        )
        assert response.status_code == 400
        assert list(response.json()) == ["title"]
        assert list(Post.objects.values_list("title", flat=True)) == ["Kept"]

    @pytest.mark.parametrize("pk", [2**63 - 1, 2**63, 2**64, 10**30])
    @pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
    def test_ids_past_64_bits_in_the_path_are_404(self, staff_client, method, pk):
        # A GET sends its data as a query string, which one object does not take.
        data = {"title": "T", "content": "C"} if method != "get" else None
        response = getattr(staff_client, method)(f"/posts/{pk}", data, format="json")
        assert response.status_code == 404

    @pytest.mark.parametrize("path", ["/posts", "/posts/stats"])
    def test_a_user_id_past_64_bits_in_the_query_is_400(self, member_client, path):
        for value in [2**63, 2**64, 10**30]:
            response = member_client.get(path, {"user_id": value})
            assert response.status_code == 400
            assert list(response.json()) == ["user_id"]
        assert member_client.get(path, {"user_id": 2**63 - 1}).json()["count"] == 0

    @pytest.mark.parametrize("value", LOOSE_INTEGERS.values(), ids=LOOSE_INTEGERS.keys())
    @pytest.mark.parametrize("path", ["/posts", "/posts/stats"])
    def test_a_user_id_not_in_plain_digits_is_400(self, member_client, path, value):
        response = member_client.get(path, {"user_id": value})
        assert response.status_code == 400
        assert list(response.json()) == ["user_id"]

    @pytest.mark.parametrize("path", ["/posts", "/posts/stats"])
    def test_an_empty_user_id_is_no_filter(self, member_client, user, path):
        PostFactory(user=user)
        PostFactory()
        response = member_client.get(path, {"user_id": ""})
        assert response.status_code == 200
        assert response.json()["count"] == 2


class TestContentLength:
    """`content` holds at most CONTENT_MAX_LENGTH characters, on every write."""

    @pytest.mark.parametrize("method", ["post", "put", "patch"])
    def test_the_maximum_is_accepted_and_one_more_is_400(self, member_client, user, method):
        post = PostFactory(user=user, content="Kept")
        path = "/posts" if method == "post" else f"/posts/{post.pk}"
        write = getattr(member_client, method)
        response = write(path, {"title": "T", "content": "x" * 20_001}, format="json")
        assert response.status_code == 400
        assert list(response.json()) == ["content"]
        assert list(Post.objects.values_list("content", flat=True)) == ["Kept"]
        response = write(path, {"title": "T", "content": "é" * 20_000}, format="json")
        assert response.status_code == (201 if method == "post" else 200)
        assert len(response.json()["content"]) == 20_000

    def test_editing_an_older_over_long_post_asks_for_shorter_content(self, member_client, user):
        post = post_from_before_the_content_limit(user=user, content="x" * 30_000)
        assert len(member_client.get(f"/posts/{post.pk}").json()["content"]) == 30_000
        # Only the title is sent, but PostgreSQL checks the whole new row: a 400, not a 500.
        response = member_client.patch(f"/posts/{post.pk}", {"title": "New"}, format="json")
        assert response.status_code == 400
        assert list(response.json()) == ["content"]
        response = member_client.patch(
            f"/posts/{post.pk}", {"title": "New", "content": "short"}, format="json"
        )
        assert response.status_code == 200
