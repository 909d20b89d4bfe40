"""Hostile request bodies: too large, not JSON, wrong JSON types, NUL bytes, lone
surrogates and control characters; hostile query strings. Every answer is JSON and
none is a 5xx."""

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


# Write targets whose base body is refused by design: the old password and the reset
# token are wrong, the refresh token is made up.
REFUSED_BASE_BODY = {"/auth/password/change", "/auth/password/reset/confirm", "/auth/logout"}


def write_targets(user, own_post):
    """(method, path, a valid body) for every write a member may make."""
    return [
        ("post", "/posts", {"title": "T", "content": "C"}),
        ("put", f"/posts/{own_post.pk}", {"title": "T", "content": "C"}),
        ("patch", f"/posts/{own_post.pk}", {"title": "T"}),
        ("put", f"/users/{user.pk}", {"name": "N", "email": "n@example.com"}),
        ("patch", f"/users/{user.pk}", {"name": "N"}),
        ("post", "/auth/password/change", {"old_password": "x", "new_password": "violet-Otter-42"}),
        ("post", "/auth/password/reset", {"email": "n@example.com"}),
        (
            "post",
            "/auth/password/reset/confirm",
            {"uid": "MQ", "token": "x", "new_password": "violet-Otter-42"},
        ),
        ("post", "/auth/logout", {"refresh": "x"}),
    ]


class TestBodySize:
    @override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
    @pytest.mark.parametrize(
        "path", ["/posts", "/auth/register", "/auth/token", "/auth/password/reset"]
    )
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
                    # Where the base body is itself refused (a wrong password, a made-up
                    # token), the 400 may name that field instead.
                    named = set(valid) if path in REFUSED_BASE_BODY else {field}
                    assert named & set(response.json()), (method, path, field)
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


# What int() or Django's IntegerField would take, and a strict integer does not.
LOOSE_INTEGERS = {
    "decimal point": "1.0",
    "plus sign": "+1",
    "leading space": " 1",
    "trailing space": "1 ",
    "trailing newline": "1\n",
    "underscore": "1_0",
    "hexadecimal": "0x1",
    "full-width digit": "\uff11",
    "arabic-indic digit": "\u0661",
    "past 64 bits": str(2**63),
    "negative": "-1",
    "negative zero": "-0",
}


READ_PATHS = [
    "/users",
    "/users/search",
    "/users/stats",
    "/users/{user}",
    "/posts",
    "/posts/stats",
    "/posts/{post}",
]

# Query strings naming a parameter no read endpoint takes, each a 400 keyed on it.
UNKNOWN_QUERY_PARAMS = {
    "empty name": ("=1", ""),
    "no value": ("x", "x"),
    "nul": ("%00=1", "\u0000"),
    "lone surrogate bytes": ("%ED%A0%80=1", "\ufffd" * 3),
    "not utf-8": ("%FF=1", "\ufffd"),
    "long name": ("x" * 10_000 + "=1", "x" * 10_000),
    "sql": ("1%27%20OR%201=1", "1' OR 1"),
    "brackets": ("user_id[]=1", "user_id[]"),
    "another letter case": ("SKIP=1", "SKIP"),
    "trailing space": ("skip%20=1", "skip "),
}


def get_raw(client, path):
    response = client.get(path)
    record("hostile_input", bad_inputs=1)
    assert response.status_code < 500, response.content
    assert response["Content-Type"] == "application/json"
    return response


@pytest.mark.parametrize(
    ("query", "name"), UNKNOWN_QUERY_PARAMS.values(), ids=UNKNOWN_QUERY_PARAMS.keys()
)
def test_unknown_query_parameters_are_400_on_every_read(member_client, user, own_post, query, name):
    for path in READ_PATHS:
        url = path.format(user=user.pk, post=own_post.pk)
        response = get_raw(member_client, f"{url}?{query}")
        assert response.status_code == 400, url
        assert response.json() == {name: ["Unknown query parameter."]}, url


def test_a_repeated_query_parameter_is_400_on_every_read(member_client, user, own_post):
    for path in READ_PATHS:
        url = path.format(user=user.pk, post=own_post.pk)
        response = get_raw(member_client, f"{url}?format=json&format=json")
        assert response.status_code == 400, url
        assert response.json() == {"format": ["Query parameter given more than once."]}


def test_more_query_parameters_than_django_parses_is_a_json_400(member_client):
    # Django refuses to parse over DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000) of them.
    query = "&".join(f"x{i}=1" for i in range(1_001))
    for path in ["/users", "/posts/stats", "/auth/me"]:
        response = get_raw(member_client, f"{path}?{query}")
        assert response.status_code == 400
        assert response.json() == {"detail": "Bad request."}


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
        ("/auth/password/change", {"old_password": "x", "new_password": "violet-Otter-42"}),
        ("/auth/password/reset", {"email": "n@example.com"}),
        (
            "/auth/password/reset/confirm",
            {"uid": "MQ", "token": "x", "new_password": "violet-Otter-42"},
        ),
        ("/auth/logout", {"refresh": "x"}),
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
