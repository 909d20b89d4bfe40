"""The role table for posts: every role × every posts endpoint × the expected status.

`{mine}` is a post of the signed-in member, `{theirs}` a post of another member;
`{member}` and `{other}` are those users' ids.
"""

import pytest

from conftest import client_for_role as client_for
from posts.models import Post
from users.tests.factories import UserFactory

from .factories import PostFactory

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "member", "staff")
BODY = {"title": "T", "content": "C"}

# (method, path, body, (anonymous, member, staff))
TABLE = [
    ("get", "/posts", None, (401, 200, 200)),
    ("get", "/posts?user_id={other}", None, (401, 200, 200)),
    ("get", "/posts/stats", None, (401, 200, 200)),
    ("get", "/posts/{theirs}", None, (401, 200, 200)),
    ("post", "/posts", BODY, (401, 201, 201)),
    ("post", "/posts", {**BODY, "user_id": "{member}"}, (401, 201, 201)),
    ("post", "/posts", {**BODY, "user_id": "{other}"}, (401, 403, 201)),
    ("put", "/posts/{mine}", BODY, (401, 200, 200)),
    ("put", "/posts/{theirs}", BODY, (401, 403, 200)),
    ("patch", "/posts/{mine}", {"title": "X"}, (401, 200, 200)),
    ("patch", "/posts/{theirs}", {"title": "X"}, (401, 403, 200)),
    ("delete", "/posts/{mine}", None, (401, 204, 204)),
    ("delete", "/posts/{theirs}", None, (401, 403, 204)),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "role", "expected"),
    [
        pytest.param(method, path, body, role, statuses[i], id=f"{role}-{method}-{path}-{body}")
        for method, path, body, statuses in TABLE
        for i, role in enumerate(ROLES)
    ],
)
def test_role_table(method, path, body, role, expected):
    member, other, staff = UserFactory(), UserFactory(), UserFactory(is_staff=True)
    ids = {
        "member": member.pk,
        "other": other.pk,
        "mine": PostFactory(user=member).pk,
        "theirs": PostFactory(user=other).pk,
    }
    if body is not None:
        body = {k: int(v.format(**ids)) if "{" in v else v for k, v in body.items()}
    posts_before = set(Post.objects.values_list("id", "title"))
    response = getattr(client_for(role, member, staff), method)(
        path.format(**ids), body, format="json"
    )
    assert response.status_code == expected, response.content
    if expected in {401, 403}:
        assert set(Post.objects.values_list("id", "title")) == posts_before
    if expected == 401:
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'
