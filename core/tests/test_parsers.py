"""Hostile request bodies: too large, not JSON, wrong JSON types, NUL bytes, lone
surrogates and control characters. Every answer is JSON and none is a 5xx."""

import json

import pytest
from django.test import override_settings

from posts.models import Post
from posts.tests.factories import PostFactory
from users.models import User

from .figures import record

pytestmark = pytest.mark.django_db


def post_raw(client, path, body: bytes, method="post"):
    response = getattr(client, method)(path, data=body, content_type="application/json")
    record("hostile_input", bad_inputs=1)
    assert response.status_code < 500, response.content
    assert response["Content-Type"] == "application/json"
    return response


@pytest.fixture
def own_post(user):
    return PostFactory(user=user)


def write_targets(user, own_post):
    """(method, path, a valid body) for every write a member may make."""
    return [
        ("post", "/posts", {"title": "T", "content": "C"}),
        ("put", f"/posts/{own_post.pk}", {"title": "T", "content": "C"}),
        ("patch", f"/posts/{own_post.pk}", {"title": "T"}),
        ("put", f"/users/{user.pk}", {"name": "N", "email": "n@example.com"}),
        ("patch", f"/users/{user.pk}", {"name": "N"}),
    ]


class TestBodySize:
    @override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
    @pytest.mark.parametrize("path", ["/posts", "/auth/register", "/auth/token"])
    def test_a_body_over_the_limit_is_a_json_413_and_writes_nothing(self, member_client, path):
        body = json.dumps({"title": "T", "content": "x" * 20_000, "name": "N"}).encode()
        response = post_raw(member_client, path, body)
        assert response.status_code == 413
        assert response.json() == {"detail": "Request body too large."}
        assert not Post.objects.exists()

    @override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
    def test_a_body_just_under_the_limit_is_accepted(self, member_client):
        content = "x" * 9_000
        response = post_raw(
            member_client, "/posts", json.dumps({"title": "T", "content": content}).encode()
        )
        assert response.status_code == 201
        assert Post.objects.get().content == content

    def test_the_default_limit_is_one_mebibyte(self, member_client):
        body = json.dumps({"title": "T", "content": "x" * 1_048_577}).encode()
        assert post_raw(member_client, "/posts", body).status_code == 413

    def test_an_oversized_admin_form_is_a_json_400(self, client, staff):
        client.force_login(staff)
        with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1_000):
            response = client.post("/admin/posts/post/add/", {"title": "x" * 5_000})
        assert response.status_code == 400
        assert response.json() == {"detail": "Bad request."}


NOT_JSON = [b'{"title": "T",', b"\xff\xfe{}", b"{'title': 'T'}", b"NaN-ish", b'{"title": NaN}']
WRONG_TOP_LEVEL = [b"[]", b'"text"', b"null", b"5", b"true", b"[{}]"]


@pytest.mark.parametrize("body", NOT_JSON + WRONG_TOP_LEVEL)
def test_bodies_that_are_not_a_json_object_are_400(member_client, user, own_post, body):
    for method, path, _ in write_targets(user, own_post):
        response = post_raw(member_client, path, body, method=method)
        assert response.status_code == 400, (method, path, response.content)
    assert Post.objects.count() == 1


WRONG_TYPES = [5, 1.5, True, None, [], ["T"], {}, {"a": "b"}, -(2**70)]


@pytest.mark.parametrize("value", WRONG_TYPES, ids=repr)
def test_wrong_json_types_for_string_fields_are_400_on_the_field(
    member_client, user, own_post, value
):
    for method, path, valid in write_targets(user, own_post):
        for field in valid:
            body = json.dumps({**valid, field: value}).encode()
            response = post_raw(member_client, path, body, method=method)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                # DRF's CharField accepts numbers as their text (5 -> "5"), except where
                # the text then fails the field's own rules (an email).
                assert response.status_code in {200, 201, 400}, (method, path, field)
                if response.status_code == 400:
                    assert field in response.json()
                continue
            assert response.status_code == 400, (method, path, field, value)
            assert field in response.json(), (method, path, field)
    user.refresh_from_db()
    assert user.email != "None"


@pytest.mark.parametrize(
    "value", ["abc", 1.5, True, None, [], {}, "1 OR 1=1", 2**63, 2**64, 10**30, -1, 0]
)
def test_bad_user_ids_in_a_post_body_are_400_on_user_id(staff_client, value):
    body = json.dumps({"user_id": value, "title": "T", "content": "C"}).encode()
    response = post_raw(staff_client, "/posts", body)
    assert response.status_code == 400
    assert list(response.json()) == ["user_id"]
    assert not Post.objects.exists()


HOSTILE_STRINGS = {
    "nul": "a\u0000b",
    "lone high surrogate": "a\ud800b",
    "lone low surrogate": "\udfff",
    "reversed pair": "\udc00\ud800",
}


@pytest.mark.parametrize("value", HOSTILE_STRINGS.values(), ids=HOSTILE_STRINGS.keys())
@pytest.mark.parametrize(
    ("path", "valid"),
    [
        ("/posts", {"title": "T", "content": "C"}),
        ("/auth/register", {"name": "N", "email": "n@example.com", "password": "violet-Otter-42"}),
        ("/auth/token", {"email": "n@example.com", "password": "violet-Otter-42"}),
        ("/auth/token/refresh", {"refresh": "x"}),
        ("/users", {"name": "N", "email": "n@example.com"}),
    ],
)
def test_nul_bytes_and_lone_surrogates_are_400_never_500(staff_client, path, valid, value):
    users_before = User.objects.count()
    for field in valid:
        # json.dumps escapes them as \\u0000 and \\ud800, exactly as a client would.
        body = json.dumps({**valid, field: value}).encode()
        response = post_raw(staff_client, path, body)
        assert response.status_code == 400, (path, field, response.content)
    assert User.objects.count() == users_before
    assert not Post.objects.exists()


@pytest.mark.parametrize("value", ["\ud800", "a\udfffb", "\u0000"])
def test_hostile_strings_in_ignored_keys_are_harmless(member_client, value):
    # DRF drops unknown keys, so nothing unstorable reaches the database.
    body = {"title": "T", "content": "C", value: "x", "extra": [value, {value: value}]}
    response = post_raw(member_client, "/posts", json.dumps(body).encode())
    assert response.status_code == 201
    assert Post.objects.values_list("title", "content").get() == ("T", "C")


@pytest.mark.parametrize(
    "text",
    [
        "tab\tnewline\nreturn\rbell\u0007escape\u001b",
        "\u202eright-to-left override",
        "zero\u200bwidth\ufeffbom",
        "emoji \U0001f44d\U0001f3fb and astral \U00010348",
        "combining e\u0301 and \u00e9",
        "'; DROP TABLE users_user; --",
        "<script>alert(1)</script>",
    ],
)
def test_other_unicode_and_control_characters_round_trip_exactly(member_client, text):
    response = post_raw(
        member_client, "/posts", json.dumps({"title": text[:200], "content": text}).encode()
    )
    assert response.status_code == 201
    stored = Post.objects.get(pk=response.json()["id"])
    assert (stored.title, stored.content) == (text[:200], text)
    fetched = member_client.get(f"/posts/{stored.pk}").json()
    assert (fetched["title"], fetched["content"]) == (text[:200], text)


def nested(depth: int, inner: bytes = b"") -> bytes:
    return b"[" * depth + inner + b"]" * depth


TOO_DEEP = {"the issue's 40 KB body": 20_000, "100,000 levels": 100_000, "1 MB": 500_000}
NESTED_TOO_DEEPLY = {"detail": "JSON parse error - nested too deeply"}


@pytest.mark.parametrize("depth", TOO_DEEP.values(), ids=TOO_DEEP.keys())
def test_json_nested_too_deeply_is_a_400_on_every_write(member_client, user, own_post, depth):
    for method, path, valid in write_targets(user, own_post):
        field = next(iter(valid))
        bodies = [
            nested(depth),
            b'{"%s": ' % field.encode() + nested(depth) + b"}",
            b'{"ignored": ' + nested(depth) + b"}",
        ]
        for body in bodies:
            response = post_raw(member_client, path, body, method=method)
            assert response.status_code == 400, (method, path, response.content)
            assert response.json() == NESTED_TOO_DEEPLY
    assert Post.objects.count() == 1


@pytest.mark.parametrize("path", ["/auth/register", "/auth/token", "/auth/token/refresh"])
def test_json_nested_too_deeply_is_a_400_before_sign_in(api_client, path):
    response = post_raw(api_client, path, nested(20_000))
    assert response.status_code == 400
    assert response.json() == NESTED_TOO_DEEPLY


def test_nesting_the_decoder_accepts_is_refused_or_ignored_like_any_wrong_type(member_client):
    deep_but_parsed = nested(2_000, b"1")
    response = post_raw(
        member_client, "/posts", b'{"title": "T", "content": ' + deep_but_parsed + b"}"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["content"]
    response = post_raw(
        member_client, "/posts", b'{"title": "T", "content": "C", "x": ' + deep_but_parsed + b"}"
    )
    assert response.status_code == 201
