"""The OpenAPI schema, its docs pages, and the versioned paths."""

import json
from collections import Counter

import jsonschema_rs
import pytest
from django.core.management import call_command

from core.schema import NOT_BLANK_NO_NUL
from users.tests.factories import UserFactory

EXPECTED_OPERATIONS = {
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/auth/token/refresh"),
    ("get", "/api/v1/auth/me"),
    ("post", "/api/v1/auth/password/change"),
    ("post", "/api/v1/auth/password/reset"),
    ("post", "/api/v1/auth/password/reset/confirm"),
    ("post", "/api/v1/auth/logout"),
    ("post", "/api/v1/auth/logout-all"),
    ("get", "/api/v1/users"),
    ("post", "/api/v1/users"),
    ("get", "/api/v1/users/search"),
    ("get", "/api/v1/users/stats"),
    ("get", "/api/v1/users/{id}"),
    ("put", "/api/v1/users/{id}"),
    ("patch", "/api/v1/users/{id}"),
    ("delete", "/api/v1/users/{id}"),
    ("get", "/api/v1/posts"),
    ("post", "/api/v1/posts"),
    ("get", "/api/v1/posts/stats"),
    ("get", "/api/v1/posts/{id}"),
    ("put", "/api/v1/posts/{id}"),
    ("patch", "/api/v1/posts/{id}"),
    ("delete", "/api/v1/posts/{id}"),
}
# Operations that act on the caller alone and read no request body.
TAKES_NO_BODY = {"/api/v1/auth/logout-all"}
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def schema(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(schema):
    return [
        (method, path, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    ]


def test_schema_is_valid_with_no_warnings(tmp_path):
    # drf-spectacular exits non-zero on an invalid schema or on any warning.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", tmp_path / "s.yml")


def test_every_operation_appears_once(schema):
    found = Counter((method, path) for method, path, _ in operations(schema))
    assert set(found) == EXPECTED_OPERATIONS
    assert set(found.values()) == {1}
    assert len({op["operationId"] for _, _, op in operations(schema)}) == len(found)


def test_every_operation_documents_its_errors_and_schemas(schema):
    public = {
        "/api/v1/auth/register",
        "/api/v1/auth/token",
        "/api/v1/auth/token/refresh",
        "/api/v1/auth/password/reset",
        "/api/v1/auth/password/reset/confirm",
    }
    for method, path, op in operations(schema):
        codes = set(op["responses"])
        assert "429" in codes, (method, path)
        if path not in public:
            assert "401" in codes, (method, path)
            assert {"jwtAuth": []} in op["security"], (method, path)
        if method in {"post", "put", "patch"} and path not in TAKES_NO_BODY:
            assert "400" in codes, (method, path)
            body = op["requestBody"]["content"]["application/json"]["schema"]
            assert body, (method, path)
        if method in {"put", "patch", "delete"}:
            assert "403" in codes, (method, path)
        if "{id}" in path:
            assert "404" in codes, (method, path)
        success = next(c for c in codes if c.startswith("2"))
        if success != "204":
            assert op["responses"][success]["content"]["application/json"]["schema"]


def test_bearer_scheme_is_declared(schema):
    assert schema["components"]["securitySchemes"]["jwtAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }


def test_list_operations_document_pagination_and_filters(schema):
    params = {p["name"] for p in schema["paths"]["/api/v1/users/search"]["get"]["parameters"]}
    assert params == {"skip", "limit", "name", "created_after"}


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_pages_use_local_assets_only(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn." not in html
    assert "unpkg" not in html


@pytest.mark.django_db
class TestVersions:
    @pytest.mark.parametrize(
        "path", ["/users", "/users/search?name=m", "/users/stats", "/posts", "/posts/stats"]
    )
    def test_v1_mirrors_the_unversioned_paths(self, member_client, path):
        current = member_client.get(path)
        pinned = member_client.get(f"/api/v1{path}")
        assert pinned.status_code == current.status_code == 200
        body = json.loads(pinned.content)
        if isinstance(body, dict) and "results" in body:
            assert body["results"] == current.json()["results"]

    def test_v1_writes_and_details(self, staff_client):
        created = staff_client.post("/api/v1/users", {"name": "V", "email": "v@x.io"})
        assert created.status_code == 201
        user_id = created.json()["id"]
        assert staff_client.get(f"/api/v1/users/{user_id}/").status_code == 200
        assert staff_client.patch(f"/api/v1/users/{user_id}", {"name": "W"}).status_code == 200
        assert staff_client.delete(f"/api/v1/users/{user_id}").status_code == 204

    def test_v1_auth(self, api_client):
        user = UserFactory()
        from users.tests.factories import TEST_PASSWORD

        tokens = api_client.post(
            "/api/v1/auth/token", {"email": user.email, "password": TEST_PASSWORD}
        )
        assert tokens.status_code == 200

    def test_an_unknown_version_is_404(self, member_client):
        assert member_client.get("/api/v2/users").status_code == 404


# Every character Python's str.strip() removes, which is what DRF trims before its blank
# check: the schema's "not blank" must mean the same, in a JSON Schema (ECMA) regex.
PYTHON_WHITESPACE = [c for c in map(chr, range(0x3001)) if c.isspace()]


@pytest.mark.parametrize("blank", PYTHON_WHITESPACE + ["\x1c\x1f \u3000"], ids=repr)
def test_the_not_blank_pattern_refuses_what_drf_trims_to_nothing(blank):
    not_blank = jsonschema_rs.validator_for({"type": "string", "pattern": NOT_BLANK_NO_NUL})
    assert not not_blank.is_valid(blank)
    assert not_blank.is_valid(f"{blank}x{blank}")


def test_the_not_blank_pattern_accepts_what_drf_keeps():
    not_blank = jsonschema_rs.validator_for({"type": "string", "pattern": NOT_BLANK_NO_NUL})
    assert "\ufeff".strip() == "\ufeff"  # a BOM is not whitespace to Python
    assert not_blank.is_valid("\ufeff")
    assert not not_blank.is_valid("a\x00b")
