"""Query-string parsing: the one strict integer that ids, `skip` and `limit` share, and
no parameter an action does not read."""

import pytest
from django import forms
from django.http import QueryDict
from rest_framework.exceptions import ValidationError

from core.filtering import INT64_MAX, INT64_MIN, StrictIntegerField, integer_query_param
from posts.tests.factories import PostFactory

from .test_parsers import LOOSE_INTEGERS


class TestStrictIntegerField:
    @pytest.mark.parametrize("value", LOOSE_INTEGERS.values(), ids=LOOSE_INTEGERS.keys())
    def test_only_plain_digits_within_bounds_pass(self, value):
        with pytest.raises(forms.ValidationError):
            StrictIntegerField(min_value=0).clean(value)

    @pytest.mark.parametrize("value", ["0", "1", "007", str(INT64_MAX)])
    def test_plain_digits_are_read_as_they_are(self, value):
        assert StrictIntegerField(min_value=0).clean(value) == int(value)

    def test_a_minus_sign_only_where_negatives_are_allowed(self):
        field = StrictIntegerField()
        assert field.clean("-5") == -5
        assert field.clean(str(INT64_MIN)) == INT64_MIN
        for value in [str(INT64_MIN - 1), "--5", "+5", "- 5"]:
            with pytest.raises(forms.ValidationError):
                field.clean(value)

    def test_bounds_never_reach_past_64_bits(self):
        field = StrictIntegerField(min_value=-(2**70), max_value=2**70)
        with pytest.raises(forms.ValidationError):
            field.clean(str(2**63))

    def test_a_long_string_is_refused_before_it_is_converted(self):
        with pytest.raises(forms.ValidationError) as refused:
            StrictIntegerField().clean("9" * 5_000)
        assert refused.value.code == "invalid"

    def test_empty_means_absent(self):
        assert StrictIntegerField(required=False).clean("") is None


class TestIntegerQueryParam:
    field = StrictIntegerField(min_value=0, max_value=10, required=False)

    def read(self, query):
        return integer_query_param(QueryDict(query), "n", 3, self.field)

    def test_absent_is_the_default(self):
        assert self.read("") == 3
        assert self.read("n=7") == 7

    @pytest.mark.parametrize("query", ["n=", "n=1.0", "n=%2B1", "n=11", "n=-1"])
    def test_present_but_unusable_is_a_400_keyed_on_the_parameter(self, query):
        with pytest.raises(ValidationError) as refused:
            self.read(query)
        assert list(refused.value.detail) == ["n"]


@pytest.mark.django_db
class TestKnownQueryParams:
    """Each GET action of the viewsets reads its own parameters and refuses the rest."""

    @pytest.mark.parametrize(
        "url",
        [
            "/users?skip=0&limit=1&name=a&created_after=2025-01-01&format=json",
            "/users/search?skip=0&limit=1&name=a&created_after=2025-01-01",
            "/users/stats?format=json",
            "/users/{user}?format=json",
            "/posts?user_id={user}&skip=0&limit=1&format=json",
            "/posts/stats?user_id={user}&skip=0&limit=1",
            "/posts/{post}?format=json",
        ],
    )
    def test_what_an_action_reads_is_accepted(self, member_client, user, url):
        post = PostFactory(user=user)
        response = member_client.get(url.format(user=user.pk, post=post.pk))
        assert response.status_code == 200

    @pytest.mark.parametrize(
        ("url", "param"),
        [
            ("/users?page=2", "page"),
            ("/users?offset=2", "offset"),
            ("/users?user_id=1", "user_id"),
            ("/users/search?q=a", "q"),
            ("/users/stats?skip=0", "skip"),
            ("/users/stats?name=a", "name"),
            ("/users/{user}?name=a", "name"),
            ("/users/{user}?limit=1", "limit"),
            ("/posts?name=a", "name"),
            ("/posts/stats?created_after=2025-01-01", "created_after"),
            ("/posts/{post}?user_id=1", "user_id"),
            ("/posts?USER_ID=1", "USER_ID"),
            ("/posts?user_id[]=1", "user_id[]"),
        ],
    )
    def test_anything_else_is_400_keyed_on_it(self, member_client, user, url, param):
        post = PostFactory(user=user)
        response = member_client.get(url.format(user=user.pk, post=post.pk))
        assert response.status_code == 400
        assert response.json() == {param: ["Unknown query parameter."]}

    def test_every_offending_parameter_is_named(self, member_client):
        response = member_client.get("/posts?a=1&skip=0&skip=1&b=2&b=3&limit=5")
        assert response.status_code == 400
        assert response.json() == {
            "a": ["Unknown query parameter."],
            "b": ["Unknown query parameter."],
            "skip": ["Query parameter given more than once."],
        }

    @pytest.mark.parametrize(
        "path", ["/users", "/users/search", "/users/stats", "/users/{user}", "/posts/stats"]
    )
    def test_the_browsable_api_still_works(self, member_client, user, path):
        response = member_client.get(path.format(user=user.pk), {"format": "api"})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")

    def test_the_browsable_api_filter_form_with_empty_fields_still_works(self, member_client):
        response = member_client.get("/users/search?name=&created_after=&format=api")
        assert response.status_code == 200

    def test_credentials_are_checked_before_the_query(self, api_client):
        assert api_client.get("/users?x=1").status_code == 401

    def test_writes_are_not_concerned(self, member_client):
        response = member_client.post("/posts?x=1", {"title": "T", "content": "C"}, format="json")
        assert response.status_code == 201
