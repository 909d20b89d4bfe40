"""The Users API through HTTP: every endpoint's success and error paths."""

import datetime as dt

import pytest
from django.utils import timezone

from core.tests.test_parsers import LOOSE_INTEGERS
from users.models import User

from .factories import UserFactory

pytestmark = pytest.mark.django_db

USER_FIELDS = {"id", "name", "email", "created_at"}


def make_users(count):
    return [UserFactory() for _ in range(count)]


def set_created_at(user, when):
    User.objects.filter(pk=user.pk).update(created_at=when)


class TestCreate:
    def test_creates_and_returns_the_representation(self, staff_client):
        response = staff_client.post(
            "/users", {"name": "Ann", "email": "Ann@Example.COM"}, format="json"
        )
        assert response.status_code == 201
        body = response.json()
        assert set(body) == USER_FIELDS
        assert body["name"] == "Ann"
        # Stored in one form: lower-case (users.managers.normalize_email).
        assert body["email"] == "ann@example.com"
        created = dt.datetime.fromisoformat(body["created_at"])
        assert created.utcoffset() == dt.timedelta(0)
        user = User.objects.get(pk=body["id"])
        assert not user.has_usable_password()

    @pytest.mark.parametrize("path", ["/users", "/users/"])
    def test_trailing_slash_is_optional(self, staff_client, path):
        response = staff_client.post(path, {"name": "A", "email": "a@x.io"}, format="json")
        assert response.status_code == 201

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"email": "a@x.io"}, "name"),
            ({"name": "A"}, "email"),
            ({"name": "", "email": "a@x.io"}, "name"),
            ({"name": "A" * 151, "email": "a@x.io"}, "name"),
            ({"name": "A", "email": "not-an-email"}, "email"),
            ({"name": ["A"], "email": "a@x.io"}, "name"),
            ({"name": "A", "email": 5}, "email"),
        ],
    )
    def test_invalid_fields_are_400_keyed_on_the_field(self, staff_client, payload, field):
        response = staff_client.post("/users", payload, format="json")
        assert response.status_code == 400
        assert field in response.json()
        assert not User.objects.filter(email="a@x.io").exists()

    def test_duplicate_email_in_any_case_is_400_on_email(self, staff_client, user):
        response = staff_client.post(
            "/users", {"name": "B", "email": user.email.upper()}, format="json"
        )
        assert response.status_code == 400
        assert response.json() == {"email": ["A user with this email already exists."]}
        assert User.objects.filter(email__iexact=user.email).count() == 1

    def test_malformed_json_is_400(self, staff_client):
        response = staff_client.post(
            "/users", data='{"name": "A",', content_type="application/json"
        )
        assert response.status_code == 400
        assert "detail" in response.json()

    def test_read_only_fields_are_ignored(self, staff_client):
        response = staff_client.post(
            "/users",
            {"name": "A", "email": "a@x.io", "id": 999, "created_at": "2000-01-01T00:00:00Z"},
            format="json",
        )
        assert response.status_code == 201
        assert response.json()["id"] != 999
        assert not response.json()["created_at"].startswith("2000")


class TestList:
    def test_defaults_to_first_ten_by_id(self, staff_client, staff):
        users = [staff, *make_users(11)]
        response = staff_client.get("/users")
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"count", "next", "previous", "results"}
        assert body["count"] == 12
        assert [u["id"] for u in body["results"]] == [u.pk for u in users[:10]]
        assert body["previous"] is None
        assert body["next"] == "http://testserver/users?limit=10&skip=10"
        assert set(body["results"][0]) == USER_FIELDS

    def test_skip_and_limit_page_through_with_absolute_links(self, staff_client, staff):
        users = [staff, *make_users(6)]
        body = staff_client.get("/users/?skip=2&limit=3").json()
        assert [u["id"] for u in body["results"]] == [u.pk for u in users[2:5]]
        assert body["next"] == "http://testserver/users/?limit=3&skip=5"
        assert body["previous"] == "http://testserver/users/?limit=3"

    def test_limit_100_is_allowed(self, staff_client):
        assert staff_client.get("/users?limit=100").status_code == 200

    def test_skip_past_the_end_is_an_empty_page(self, staff_client, user):
        body = staff_client.get("/users?skip=1000000").json()
        assert body["count"] == 2
        assert body["results"] == []

    @pytest.mark.parametrize(
        ("query", "param"),
        [
            ("skip=-1", "skip"),
            ("skip=abc", "skip"),
            ("skip=1.5", "skip"),
            ("skip=", "skip"),
            ("skip=1_000", "skip"),
            ("skip=99999999999999999999999", "skip"),
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=-5", "limit"),
            ("limit=ten", "limit"),
        ],
    )
    def test_bad_skip_or_limit_is_400_keyed_on_the_parameter(self, staff_client, query, param):
        response = staff_client.get(f"/users?{query}")
        assert response.status_code == 400
        assert list(response.json()) == [param]

    def test_filters_also_work_on_the_list(self, staff_client):
        UserFactory(name="Johanna")
        UserFactory(name="Bob")
        body = staff_client.get("/users?name=JOH").json()
        assert [u["name"] for u in body["results"]] == ["Johanna"]

    def test_wrong_method_is_405(self, staff_client):
        response = staff_client.delete("/users")
        assert response.status_code == 405
        assert "detail" in response.json()


class TestSearch:
    @pytest.fixture(autouse=True)
    def _staff_created_long_ago(self, staff):
        set_created_at(staff, dt.datetime(2000, 1, 1, tzinfo=dt.UTC))

    def test_name_is_a_case_insensitive_substring(self, staff_client):
        jo = [UserFactory(name="Jonathan"), UserFactory(name="Marjorie"), UserFactory(name="JO")]
        UserFactory(name="Alice")
        body = staff_client.get("/users/search?name=jO").json()
        assert body["count"] == 3
        assert [u["id"] for u in body["results"]] == [u.pk for u in jo]

    def test_created_after_takes_a_date_as_start_of_that_day_utc(self, staff_client):
        old, edge, new = make_users(3)
        set_created_at(old, dt.datetime(2024, 12, 31, 23, 59, 59, tzinfo=dt.UTC))
        set_created_at(edge, dt.datetime(2025, 1, 1, 0, 0, 0, tzinfo=dt.UTC))
        set_created_at(new, dt.datetime(2025, 6, 1, tzinfo=dt.UTC))
        body = staff_client.get("/users/search?created_after=2025-01-01").json()
        assert [u["id"] for u in body["results"]] == [edge.pk, new.pk]

    def test_created_after_normalises_an_offset_to_utc(self, staff_client):
        before, after = make_users(2)
        set_created_at(before, dt.datetime(2025, 1, 1, 9, 59, tzinfo=dt.UTC))
        set_created_at(after, dt.datetime(2025, 1, 1, 10, 0, tzinfo=dt.UTC))
        response = staff_client.get("/users/search", {"created_after": "2025-01-01T12:00:00+02:00"})
        assert [u["id"] for u in response.json()["results"]] == [after.pk]

    def test_name_and_created_after_combine(self, staff_client):
        old_jo, new_jo, new_bob = (
            UserFactory(name="Jo"),
            UserFactory(name="Jo"),
            UserFactory(name="Bob"),
        )
        set_created_at(old_jo, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        body = staff_client.get("/users/search?name=jo&created_after=2021-01-01").json()
        assert [u["id"] for u in body["results"]] == [new_jo.pk]
        assert new_bob.pk not in [u["id"] for u in body["results"]]

    def test_search_is_paginated_like_the_list(self, staff_client):
        make_users(3)
        body = staff_client.get("/users/search?limit=2").json()
        assert body["count"] == 4
        assert len(body["results"]) == 2
        assert body["next"] == "http://testserver/users/search?limit=2&skip=2"

    @pytest.mark.parametrize(
        "value",
        [
            "yesterday",
            "2025-13-01",
            "2025-02-30",
            "2025-01-01T25:00:00",
            # Year 1 at +14:00 is year 0 in UTC: not representable.
            "0001-01-01T00:00:00+14:00",
            "99999-01-01",
        ],
    )
    def test_unusable_created_after_is_400(self, staff_client, value):
        response = staff_client.get("/users/search", {"created_after": value})
        assert response.status_code == 400
        assert list(response.json()) == ["created_after"]

    def test_like_metacharacters_match_literally(self, staff_client):
        literal = UserFactory(name="100%_sure")
        UserFactory(name="100 percent sure")
        body = staff_client.get("/users/search", {"name": "%_"}).json()
        assert [u["id"] for u in body["results"]] == [literal.pk]


class TestDetail:
    def test_get_returns_the_user(self, staff_client, user):
        response = staff_client.get(f"/users/{user.pk}")
        assert response.status_code == 200
        assert response.json() == {
            "id": user.pk,
            "name": user.name,
            "email": user.email,
            "created_at": response.json()["created_at"],
        }
        assert "password" not in response.content.decode()

    @pytest.mark.parametrize("path", ["/users/999999", "/users/abc", "/users/99999999999999999999"])
    def test_absent_or_not_a_number_is_404_json(self, staff_client, path):
        response = staff_client.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."} or "detail" in response.json()

    def test_put_replaces_name_and_email(self, staff_client, user):
        response = staff_client.put(
            f"/users/{user.pk}/", {"name": "New", "email": "new@x.io"}, format="json"
        )
        assert response.status_code == 200
        user.refresh_from_db()
        assert (user.name, user.email) == ("New", "new@x.io")

    def test_put_requires_every_field(self, staff_client, user):
        response = staff_client.put(f"/users/{user.pk}", {"name": "New"}, format="json")
        assert response.status_code == 400
        assert "email" in response.json()

    def test_patch_changes_only_what_is_given(self, staff_client, user):
        response = staff_client.patch(f"/users/{user.pk}", {"name": "Renamed"}, format="json")
        assert response.status_code == 200
        user.refresh_from_db()
        assert user.name == "Renamed"
        assert response.json()["email"] == user.email

    def test_patch_to_an_email_taken_in_another_case_is_400(self, staff_client, user):
        other = UserFactory()
        response = staff_client.patch(
            f"/users/{user.pk}", {"email": other.email.title()}, format="json"
        )
        assert response.status_code == 400
        assert list(response.json()) == ["email"]

    def test_patch_keeping_ones_own_email_in_another_case_is_allowed(self, staff_client, user):
        response = staff_client.patch(f"/users/{user.pk}", {"email": user.email}, format="json")
        assert response.status_code == 200

    def test_delete_is_204_then_404(self, staff_client, user):
        assert staff_client.delete(f"/users/{user.pk}").status_code == 204
        assert not User.objects.filter(pk=user.pk).exists()
        assert staff_client.delete(f"/users/{user.pk}").status_code == 404

    @pytest.mark.parametrize("method", ["put", "patch", "delete"])
    def test_writes_to_an_absent_user_are_404(self, staff_client, method):
        response = getattr(staff_client, method)(
            "/users/424242", {"name": "A", "email": "a@x.io"}, format="json"
        )
        assert response.status_code == 404


class TestStats:
    def test_counts_all_users_and_those_of_the_last_7_days(self, staff_client, staff):
        recent = [staff, *make_users(1)]
        old = make_users(3)
        for u in old:
            set_created_at(u, timezone.now() - dt.timedelta(days=8))
        set_created_at(recent[0], timezone.now() - dt.timedelta(days=6, hours=23))
        response = staff_client.get("/users/stats")
        assert response.status_code == 200
        assert response.json() == {"total_users": 5, "users_last_7_days": 2}

    def test_is_one_query(self, staff_client, django_assert_num_queries):
        make_users(3)
        with django_assert_num_queries(1):
            staff_client.get("/users/stats")


@pytest.mark.parametrize("path", ["/users", "/users/search?name=member"])
def test_list_queries_do_not_grow_with_the_page(staff_client, path, assert_page_queries_flat):
    make_users(20)
    assert_page_queries_flat(staff_client, path)


RESET = {"uid": "MQ", "token": "x", "new_password": "violet-Otter-42-lamp"}
CHANGE = {"old_password": "x", "new_password": "violet-Otter-42-lamp"}


class TestHostileInput:
    """Over-long fields, privileged fields, LIKE metacharacters, ids past 64 bits."""

    @pytest.mark.parametrize(
        ("method", "payload", "field"),
        [
            ("post", {"name": "N" * 151, "email": "a@x.io"}, "name"),
            ("post", {"name": "N", "email": "a" * 243 + "@example.com"}, "email"),
            ("post", {"name": "N", "email": "a@x.io", "password": "p" * 129}, "password"),
            ("put", {"name": "N" * 151, "email": "a@x.io"}, "name"),
            ("put", {"name": "N", "email": "a" * 243 + "@example.com"}, "email"),
            ("patch", {"name": "N" * 10_000}, "name"),
        ],
    )
    def test_over_long_fields_are_400_not_a_database_error(
        self, staff_client, user, method, payload, field
    ):
        path = "/users" if method == "post" else f"/users/{user.pk}"
        response = getattr(staff_client, method)(path, payload, format="json")
        assert response.status_code == 400
        assert list(response.json()) == [field]
        assert not User.objects.filter(email="a@x.io").exists()
        assert User.objects.get(pk=user.pk).name == user.name

    @pytest.mark.parametrize(
        ("path", "payload", "field"),
        [
            ("/auth/password/reset", {"email": "a" * 243 + "@example.com"}, "email"),
            ("/auth/password/reset/confirm", {**RESET, "uid": "M" * 65}, "uid"),
            ("/auth/password/reset/confirm", {**RESET, "token": "x" * 129}, "token"),
            ("/auth/password/reset/confirm", {**RESET, "new_password": "p" * 129}, "new_password"),
            ("/auth/password/change", {**CHANGE, "old_password": "p" * 129}, "old_password"),
            ("/auth/password/change", {**CHANGE, "new_password": "p" * 129}, "new_password"),
            ("/auth/logout", {"refresh": "x" * 4097}, "refresh"),
        ],
    )
    def test_over_long_account_fields_are_400_on_the_field(
        self, member_client, user, path, payload, field
    ):
        response = member_client.post(path, payload, format="json")
        assert response.status_code == 400
        assert list(response.json()) == [field]
        assert User.objects.get(pk=user.pk).password == user.password

    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_a_member_cannot_set_privileged_or_read_only_fields_on_themselves(
        self, member_client, user, method
    ):
        before = User.objects.get(pk=user.pk)
        response = getattr(member_client, method)(
            f"/users/{user.pk}",
            {
                "name": "Still a member",
                "email": user.email,
                "id": user.pk + 1000,
                "created_at": "2000-01-01T00:00:00Z",
                "is_staff": True,
                "is_superuser": True,
                "is_active": False,
                "password": "violet-Otter-42-lamp",
            },
            format="json",
        )
        assert response.status_code == 200
        after = User.objects.get(pk=user.pk)
        assert after.name == "Still a member"
        assert (after.is_staff, after.is_superuser, after.is_active) == (False, False, True)
        assert after.created_at == before.created_at
        assert after.password == before.password
        assert not User.objects.filter(pk=user.pk + 1000).exists()

    @pytest.mark.parametrize("pattern", ["%", "_", "'", "\\", "%_", "\\%", "''", "' OR '1'='1"])
    def test_sql_and_like_metacharacters_in_name_match_literally(self, staff_client, pattern):
        literal = UserFactory(name=f"x{pattern}y")
        UserFactory(name="xy")
        UserFactory(name="x-y")
        UserFactory(name="x\\\\y" if pattern != "\\" else "xzy")
        response = staff_client.get("/users/search", {"name": pattern})
        assert response.status_code == 200
        found = [u["id"] for u in response.json()["results"]]
        expected = [u.pk for u in User.objects.order_by("id") if pattern.lower() in u.name.lower()]
        assert found == expected
        assert literal.pk in found

    @pytest.mark.parametrize("value", ["\u0000", "a\u0000"])
    def test_a_nul_byte_in_name_is_400(self, staff_client, value):
        response = staff_client.get("/users/search", {"name": value})
        assert response.status_code == 400
        assert list(response.json()) == ["name"]

    def test_the_largest_skip_is_an_empty_page_and_one_more_is_400(self, staff_client):
        largest = staff_client.get("/users", {"skip": 2**63 - 1})
        assert largest.status_code == 200
        assert largest.json()["results"] == []
        assert staff_client.get("/users", {"skip": 2**63}).status_code == 400

    @pytest.mark.parametrize(
        "value", [*LOOSE_INTEGERS.values(), ""], ids=[*LOOSE_INTEGERS, "empty"]
    )
    @pytest.mark.parametrize("param", ["skip", "limit"])
    def test_skip_and_limit_not_in_plain_digits_are_400(self, staff_client, param, value):
        response = staff_client.get("/users", {param: value})
        assert response.status_code == 400
        assert list(response.json()) == [param]

    @pytest.mark.parametrize("pk", [2**63 - 1, 2**63, 2**64, 10**30])
    @pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
    def test_ids_past_64_bits_in_the_path_are_404(self, staff_client, method, pk):
        # A GET sends its data as a query string, which one object does not take.
        data = {"name": "N", "email": "n@x.io"} if method != "get" else None
        response = getattr(staff_client, method)(f"/users/{pk}", data, format="json")
        assert response.status_code == 404
        assert "detail" in response.json()


PUBLIC_FIELDS = {"id", "name", "created_at"}


class TestEmailVisibility:
    """Emails are shown to staff and to the user themselves; members see none of the others'.

    Cached pages are shared per audience, never per caller (core/tests/test_cache.py).
    """

    @pytest.mark.parametrize("path", ["/users?limit=100", "/users/search?name=member&limit=100"])
    def test_a_member_harvests_no_email_from_the_lists_not_even_their_own(
        self, member_client, user, path
    ):
        make_users(3)
        for _ in range(2):  # the miss, then the cached page
            results = member_client.get(path).json()["results"]
            assert len(results) == 4
            assert all(set(row) == PUBLIC_FIELDS for row in results)
            assert user.email not in member_client.get(path).content.decode()

    @pytest.mark.parametrize("path", ["/users?limit=100", "/users/search?name=member&limit=100"])
    def test_staff_see_every_email_in_the_lists(self, staff_client, member_client, path):
        others = make_users(3)
        member_client.get(path)  # a member's page is cached first
        results = staff_client.get(path).json()["results"]
        assert {row["email"] for row in results} >= {u.email for u in others}

    def test_a_member_sees_their_own_email_but_not_anothers(self, member_client, user):
        other = UserFactory()
        for _ in range(2):
            assert member_client.get(f"/users/{user.pk}").json()["email"] == user.email
            assert set(member_client.get(f"/users/{other.pk}").json()) == PUBLIC_FIELDS
        assert member_client.get("/auth/me").json()["email"] == user.email

    def test_writes_answer_with_the_email_to_whoever_may_see_it(self, member_client, user):
        response = member_client.patch(f"/users/{user.pk}", {"name": "Me"}, format="json")
        assert response.json()["email"] == user.email

    def test_staff_see_the_email_of_anyone(self, staff_client, user):
        assert staff_client.get(f"/users/{user.pk}").json()["email"] == user.email
        created = staff_client.post("/users", {"name": "N", "email": "n@x.io"}, format="json")
        assert created.json()["email"] == "n@x.io"

    def test_the_schema_marks_email_optional_in_responses_only(self, client):
        components = client.get("/openapi.json").json()["components"]["schemas"]
        assert "email" in components["User"]["properties"]
        assert "email" not in components["User"]["required"]
        assert "staff" in components["User"]["properties"]["email"]["description"]
        assert "email" in components["UserRequest"]["required"]
