"""OpenAPI schema generation: the error responses every operation can give, and paths.

The error responses are derived from what the view really does, so no view has to
repeat them: 400 where the operation takes input, 401 where a sign-in is needed, 403
where a signed-in caller can be refused (writes), 404 for one object, 413 where a body
is read, 429 wherever a throttle runs.
"""

import re

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from core.filtering import KnownQueryParamsMixin

VERSIONED_PREFIX = "/api/{version}/"
NO_NUL = r"^[^\x00]*$"
# DRF trims with Python's str.strip(), whose whitespace is not a JSON Schema regex's \s
# (Python's adds \x1c-\x1f and \x85; ECMA's adds \ufeff): spelt out, so that "not blank"
# means the same on both sides (core/tests/test_schema.py checks every character).
_PYTHON_WHITESPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK_NO_NUL = rf"^[^\x00]*[^{_PYTHON_WHITESPACE}\x00][^\x00]*$"
_OBJECT_IN_PATH = re.compile(r"\{(?!version\})\w+\}")

_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
_VALIDATION = {
    "type": "object",
    "description": "Messages keyed by the offending field or parameter "
    "(`detail` for a body that is not valid JSON).",
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "string"},
            {"type": "object", "additionalProperties": True},
        ]
    },
}
_ERRORS = {
    "400": ("Invalid input.", "ValidationError", _VALIDATION),
    "401": ("Missing, invalid or expired credentials.", "ErrorDetail", _DETAIL),
    "403": ("Signed in, but not allowed to do this.", "ErrorDetail", _DETAIL),
    "404": ("No such object.", "ErrorDetail", _DETAIL),
    "413": ("The request body is over the size limit.", "ErrorDetail", _DETAIL),
    "429": ("Rate limit exceeded; see the Retry-After header.", "ErrorDetail", _DETAIL),
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, plus the documented error responses of each operation."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            description, name, schema = _ERRORS[code]
            component = ResolvedComponent(
                name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
            )
            self.registry.register_on_missing(component)
            responses.setdefault(
                code,
                {
                    "description": description,
                    "content": {"application/json": {"schema": component.ref}},
                },
            )
        return responses

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        # A field required on input may be left out of a response (users' `email`, shown
        # to some callers only): the serializer names it in `optional_in_response`.
        optional = getattr(serializer, "optional_in_response", ())
        if direction == "response" and optional and "required" in schema:
            schema["required"] = [name for name in schema["required"] if name not in optional]
        return schema

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # DRF refuses NUL characters in every CharField, and trims one before its blank
        # check, so "   " is as blank as "": say so, or a client reading the schema (or
        # the contract fuzzer) expects such strings to be accepted.
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and schema.get("type") == "string"
            and "pattern" not in schema
        ):
            blank_refused = field.trim_whitespace and not field.allow_blank
            schema["pattern"] = NOT_BLANK_NO_NUL if blank_refused else NO_NUL
        return schema

    def _error_codes(self):
        codes = []
        takes_input = self.method in {"POST", "PUT", "PATCH"} or (
            self.method == "GET"
            # Such views refuse unknown or repeated query parameters, one object's too.
            and (self._is_list_view() or isinstance(self.view, KnownQueryParamsMixin))
        )
        if takes_input:
            codes.append("400")
        if self.method in {"POST", "PUT", "PATCH"}:
            codes.append("413")
        permissions = self.view.get_permissions()
        open_to_anyone = not permissions or any(isinstance(p, AllowAny) for p in permissions)
        if not open_to_anyone:
            codes.append("401")
            if self.method not in {"GET", "HEAD", "OPTIONS"}:
                codes.append("403")
        if _OBJECT_IN_PATH.search(self.path):
            codes.append("404")
        if self.view.get_throttles():
            codes.append("429")
        # Views that refuse credentials they are given (sign-in, refresh) say so.
        codes.extend(getattr(self.view, "schema_extra_error_codes", ()))
        return sorted(set(codes))


def keep_one_path_per_operation(endpoints, **kwargs):
    """Document each operation once, under its pinned `/api/v1/` path.

    The same views also answer at the unversioned paths (the current version) and
    with or without a trailing slash (`/?` in the routes); the documented form is the
    versioned one without the slash.
    """
    return [
        (path.rstrip("/"), path_regex, method, callback)
        for path, path_regex, method, callback in endpoints
        if path.startswith(VERSIONED_PREFIX)
    ]
