"""The role table: every role × every users/auth endpoint × the expected status.

Callers sign in with real bearer tokens, so authentication is exercised as deployed.
`{member}` is the signed-in member's own id, `{other}` another member's.
"""

import pytest
from rest_framework.test import APIClient

from conftest import bearer_client
from conftest import client_for_role as client_for

from .factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_USER = {"name": "New", "email": "new@x.io"}
ROLES = ("anonymous", "member", "staff")

# (method, path, body, {role: expected status})
TABLE = [
    ("post", "/users", NEW_USER, (401, 403, 201)),
    ("post", "/users", {**NEW_USER, "password": "violet-Otter-42"}, (401, 403, 201)),
    ("get", "/users", None, (401, 200, 200)),
    ("get", "/users/search?name=a", None, (401, 200, 200)),
    ("get", "/users/stats", None, (401, 200, 200)),
    ("get", "/users/{other}", None, (401, 200, 200)),
    ("put", "/users/{member}", {"name": "Me", "email": "me@x.io"}, (401, 200, 200)),
    ("put", "/users/{other}", {"name": "It", "email": "it@x.io"}, (401, 403, 200)),
    ("patch", "/users/{member}", {"name": "Me"}, (401, 200, 200)),
    ("patch", "/users/{other}", {"name": "It"}, (401, 403, 200)),
    ("delete", "/users/{other}", None, (401, 403, 204)),
    ("delete", "/users/{member}", None, (401, 204, 204)),
    ("get", "/auth/me", None, (401, 200, 200)),
    ("post", "/auth/register", {**NEW_USER, "password": "violet-Otter-42"}, (201, 201, 201)),
    (
        "post",
        "/auth/token",
        {"email": "{member_email}", "password": TEST_PASSWORD},
        (200, 200, 200),
    ),
    (
        "post",
        "/auth/password/change",
        {"old_password": TEST_PASSWORD, "new_password": "violet-Otter-42"},
        (401, 204, 204),
    ),
    ("post", "/auth/password/reset", {"email": "{member_email}"}, (202, 202, 202)),
    ("post", "/auth/password/reset/confirm", {"uid": "MQ", "token": "x"}, (400, 400, 400)),
    ("post", "/auth/logout", {"refresh": "x"}, (401, 400, 400)),
    ("post", "/auth/logout-all", None, (401, 204, 204)),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "role", "expected"),
    [
        pytest.param(method, path, body, role, statuses[i], id=f"{role}-{method}-{path}")
        for method, path, body, statuses in TABLE
        for i, role in enumerate(ROLES)
    ],
)
def test_role_table(method, path, body, role, expected):
    member, other, staff = UserFactory(), UserFactory(), UserFactory(is_staff=True)
    ids = {"member": member.pk, "other": other.pk}
    if body is not None:
        body = {k: v.format(member_email=member.email) for k, v in body.items()}
    response = getattr(client_for(role, member, staff), method)(
        path.format(**ids), body, format="json"
    )
    assert response.status_code == expected, response.content
    if expected == 401:
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'
        assert "detail" in response.json()


def test_a_member_cannot_make_themselves_staff():
    member = UserFactory()
    client = client_for("member", member, None)
    response = client.patch(
        f"/users/{member.pk}", {"is_staff": True, "is_superuser": True}, format="json"
    )
    assert response.status_code == 200
    member.refresh_from_db()
    assert not member.is_staff
    assert not member.is_superuser


def test_staff_create_without_a_password_makes_an_account_that_cannot_sign_in():
    staff = UserFactory(is_staff=True)
    response = client_for("staff", None, staff).post("/users", NEW_USER, format="json")
    assert response.status_code == 201
    sign_in = APIClient().post(
        "/auth/token", {"email": NEW_USER["email"], "password": ""}, format="json"
    )
    assert sign_in.status_code in {400, 401}


def test_staff_create_with_a_password_applies_the_validators():
    staff = UserFactory(is_staff=True)
    response = client_for("staff", None, staff).post(
        "/users", {**NEW_USER, "password": "123"}, format="json"
    )
    assert response.status_code == 400
    assert "password" in response.json()


# Who may change or delete a superuser: only another superuser (or they themselves).
# (method, body, {actor: expected status}) against a superuser who is not the caller.
TAKE_OVER = {"name": "It", "email": "taken-over@x.io"}
SUPERUSER_TARGET_TABLE = [
    ("get", None, {"member": 200, "staff": 200, "superuser": 200}),
    ("put", TAKE_OVER, {"member": 403, "staff": 403, "superuser": 200}),
    ("patch", {"email": "taken-over@x.io"}, {"member": 403, "staff": 403, "superuser": 200}),
    ("delete", None, {"member": 403, "staff": 403, "superuser": 204}),
]
ACTORS = {
    "member": {},
    "staff": {"is_staff": True},
    "superuser": {"is_staff": True, "is_superuser": True},
}


@pytest.mark.parametrize(
    ("method", "body", "actor", "expected"),
    [
        pytest.param(method, body, actor, statuses[actor], id=f"{actor}-{method}")
        for method, body, statuses in SUPERUSER_TARGET_TABLE
        for actor in ACTORS
    ],
)
def test_only_a_superuser_changes_or_deletes_a_superuser(method, body, actor, expected):
    target = UserFactory(is_staff=True, is_superuser=True, email="root@x.io")
    response = getattr(bearer_client(UserFactory(**ACTORS[actor])), method)(
        f"/users/{target.pk}", body, format="json"
    )
    assert response.status_code == expected, response.content
    if expected == 403:
        target.refresh_from_db()
        assert target.email == "root@x.io"


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_staff_still_change_and_delete_other_staff_and_members(method):
    staff = UserFactory(is_staff=True)
    for target in (UserFactory(), UserFactory(is_staff=True)):
        response = getattr(bearer_client(staff), method)(
            f"/users/{target.pk}", {"name": "N", "email": f"n{target.pk}@x.io"}, format="json"
        )
        assert response.status_code in {200, 204}, response.content


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_a_superuser_may_change_or_delete_themselves(method):
    root = UserFactory(is_staff=True, is_superuser=True)
    response = getattr(bearer_client(root), method)(
        f"/users/{root.pk}", {"name": "Me", "email": "me@x.io"}, format="json"
    )
    assert response.status_code in {200, 204}, response.content
