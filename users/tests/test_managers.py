"""The email rule (users.managers.normalize_email), table-driven, without HTTP."""

import pytest
from django.core.exceptions import ValidationError

from users.managers import normalize_email

# (typed, stored): what registration keeps and what sign-in compares.
NORMALISED = [
    ("alice@example.com", "alice@example.com"),
    ("Alice@EXAMPLE.com", "alice@example.com"),
    ("alice+tag@example.com", "alice+tag@example.com"),
    ("o'brien@example.ie", "o'brien@example.ie"),
    ("ann@localhost", "ann@localhost"),
    # Internationalised domains are stored in their ASCII (IDNA) form, whichever
    # form is typed, so staff and clients see the xn-- labels.
    ("ann@bücher.de", "ann@xn--bcher-kva.de"),
    ("ann@BÜCHER.de", "ann@xn--bcher-kva.de"),
    ("ann@bu\u0308cher.de", "ann@xn--bcher-kva.de"),  # decomposed ü: NFC first
    ("ann@XN--BCHER-KVA.de", "ann@xn--bcher-kva.de"),
    ("ann@straße.de", "ann@xn--strae-oqa.de"),  # IDNA 2008: not strasse.de
    ("ann@例え.jp", "ann@xn--r8jz45g.jp"),  # Han and Hiragana: one writing system
    ("ann@пример.рф", "ann@xn--e1afmkfd.xn--p1ai"),  # Cyrillic alone is fine
]

# (typed, why it is refused).
REFUSED = [
    ("alice@exаmple.com", "Cyrillic а among Latin letters"),
    ("alice@xn--exmple-4nf.com", "the same, in its punycode form"),
    ("alice@exοmple.com", "Greek ο among Latin letters"),
    ("alice@exａmple.com", "a full-width letter in the domain"),
    ("ａlice@example.com", "a full-width letter in the local part"),
    ("alice@example\uff0ecom", "a full-width full stop"),
    ("ﬁle@example.com", "a ligature"),
    ("alice@ex\u200bample.com", "a zero-width space in the domain"),
    ("al\u200bice@example.com", "a zero-width space in the local part"),
    ("al\u00adice@example.com", "a soft hyphen"),
    ("alice@example.com\u202e", "a right-to-left override"),
    ("ali ce@example.com", "a space"),
    ("alice@exa\u00a0mple.com", "a no-break space"),
    ("ali\tce@example.com", "a tab"),
    ("al\u0000ice@example.com", "a NUL"),
    ('"alice"@example.com', "a quoted local part"),
    ('"al@ice"@example.com', "a quoted local part holding @"),
    ("al\\ice@example.com", "a backslash escape"),
    ("alıce@example.com", "a dotless ı, which PostgreSQL's UPPER folds to I"),
    ("alİce@example.com", "a dotted İ"),
    ("аlice@example.com", "a Cyrillic а in the local part"),
    ("josé@example.com", "any non-ASCII local part"),
    ("alice@xn--zz.com", "a punycode label that does not decode"),
    ("alice@-exämple.com", "an internationalised label starting with a hyphen"),
    ("alice", "no @"),
    ("@example.com", "no local part"),
    ("alice@", "no domain"),
]


@pytest.mark.parametrize(("typed", "stored"), NORMALISED)
def test_an_address_is_stored_in_one_form(typed, stored):
    assert normalize_email(typed) == stored
    assert normalize_email(stored) == stored


@pytest.mark.parametrize(("typed", "why"), REFUSED, ids=[why for _, why in REFUSED])
def test_lookalike_and_ambiguous_addresses_are_refused(typed, why):
    with pytest.raises(ValidationError) as excinfo:
        normalize_email(typed)
    assert excinfo.value.code == "invalid"
