"""Request body parsing: DRF's JSON parser, with nesting too deep for it answered as a 400."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

NESTED_TOO_DEEPLY = "JSON parse error - nested too deeply"


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser; a body nested deeper than Python's decoder goes is a 400.

    The C decoder recurses once per level and stops with RecursionError at the
    interpreter's limit (about 10,000 levels on Python 3.13; 20,000 nested arrays are
    40 KB), which is otherwise a 500. Shallower nesting parses, and is then refused or
    ignored like any other wrong type: every body this API takes is a flat object.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(NESTED_TOO_DEEPLY) from None
