"""Query-string parsing: the one strict integer that ids, `skip` and `limit` share."""

import pytest
from django import forms
from django.http import QueryDict
from rest_framework.exceptions import ValidationError

from core.filtering import INT64_MAX, INT64_MIN, StrictIntegerField, integer_query_param

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
