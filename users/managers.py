"""The user manager: how users are created, with the email normalised in one place.

The email rule (README, "Security" → "Emails"): an address is stored, and compared at
sign-in, in exactly one form, and a string that merely looks like a stored address
never matches it or registers next to it.

1. Canonical composition (NFC). A character that compatibility normalisation (NFKC)
   would still change — full-width letters and stops, ligatures, superscripts — is
   refused rather than mapped: the address typed is not the mailbox it resembles.
2. No invisible, space, control, format, private-use or unassigned characters
   (Unicode categories C* and Z*: zero-width spaces, soft hyphens, bidi overrides…).
3. No quoted or escaped local parts (`"alice"@…`, `al\\ice@…`).
4. The local part is ASCII: `alıce` (dotless ı, which PostgreSQL's UPPER() folds to I)
   and Cyrillic or Greek lookalike letters are refused.
5. The domain is kept in its IDNA 2008 ASCII form (`xn--…`, via the `idna` package),
   whichever form was typed. A label may not mix scripts (UTS #39 "highly
   restrictive": one script, or Latin with the Han-based Japanese, Chinese or Korean
   sets), so `exаmple` (Cyrillic а among Latin) is refused in both its forms.
6. The whole address is lower-cased.

Sign-in normalises what is typed the same way and compares exactly; an address the
rule refuses matches no one.
"""

import unicodedata

import idna
from django.contrib.auth.base_user import BaseUserManager
from django.core.exceptions import ValidationError

from core.counting import CountedQuerySet
from core.models import Counter

_INVISIBLE_OR_CONTROL = {"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"}
# Scripts that UTS #39's "highly restrictive" level lets one label combine.
_SCRIPT_SETS = (
    {"LATIN", "HAN", "HIRAGANA", "KATAKANA"},
    {"LATIN", "HAN", "BOPOMOFO"},
    {"LATIN", "HAN", "HANGUL"},
)
# First words of Unicode character names that are not script names.
_SCRIPT_OF_NAME = {"CJK": "HAN", "IDEOGRAPHIC": "HAN", "KATAKANA-HIRAGANA": "KATAKANA"}


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, code="invalid")


def _scripts(label: str) -> set[str]:
    """The scripts of a label's letters, read from their Unicode names (the standard
    library has no Script property); digits, hyphens and marks belong to none."""
    first_words = (unicodedata.name(ch, "UNKNOWN").split()[0] for ch in label if ch.isalpha())
    return {_SCRIPT_OF_NAME.get(word, word) for word in first_words}


def _ascii_domain(domain: str) -> str:
    """The domain in its lower-case IDNA ASCII form, or ValidationError."""
    labels = domain.split(".")
    if domain.isascii() and not any(label.lower().startswith("xn--") for label in labels):
        return domain.lower()  # the format is EmailValidator's to judge, as before
    try:
        unicode_labels = [
            idna.decode(label) if label.lower().startswith("xn--") else label for label in labels
        ]
        for label in unicode_labels:
            scripts = _scripts(label)
            if len(scripts) > 1 and not any(scripts <= allowed for allowed in _SCRIPT_SETS):
                raise _invalid(
                    "Enter a domain whose every label is written in one script "
                    "(not, say, Latin and Cyrillic letters together)."
                )
        return idna.encode(".".join(unicode_labels), uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise _invalid("Enter a valid internationalised domain name.") from None


def normalize_email(email: str) -> str:
    """The one stored form of an email address; ValidationError for a form it refuses."""
    text = unicodedata.normalize("NFC", email)
    if unicodedata.normalize("NFKC", text) != text:
        raise _invalid(
            "Enter the address in plain characters: full-width letters, ligatures and "
            "other compatibility forms are not accepted."
        )
    if any(unicodedata.category(ch) in _INVISIBLE_OR_CONTROL for ch in text):
        raise _invalid("Enter the address without spaces, invisible or control characters.")
    local, at, domain = text.rpartition("@")
    if not (at and local and domain):
        raise _invalid("Enter a valid email address.")
    if '"' in local or "\\" in local:
        raise _invalid('Quoted local parts ("…"@…) and escapes are not accepted.')
    if not local.isascii():
        raise _invalid("The part before @ must be ASCII letters, digits and punctuation.")
    return f"{local.lower()}@{_ascii_domain(domain)}"


class UserManager(BaseUserManager.from_queryset(CountedQuerySet)):
    """Creates users keyed by email; a user created without a password cannot sign in.

    Its querysets count all users from the trigger-kept counter, not COUNT(*).
    """

    use_in_migrations = True

    def get_queryset(self):
        return super().get_queryset().counted_as(Counter.USERS)

    @classmethod
    def normalize_email(cls, email):
        """The stored form of `email` (see `normalize_email`); ValidationError if refused."""
        return normalize_email(email or "")

    def get_by_natural_key(self, username):
        # Sign-in (API and admin): the typed address in its stored form, compared
        # exactly. A form the rule refuses (a lookalike) matches no one; the auth
        # backend then still runs the password hasher, so timing does not tell.
        try:
            email = normalize_email(username)
        except ValidationError:
            raise self.model.DoesNotExist from None
        return self.get(**{self.model.USERNAME_FIELD: email})

    def _create_user(self, email, name, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), name=name, **extra_fields)
        # set_password(None) stores an unusable password: no sign-in until one is set.
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, name, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, name, password, **extra_fields)

    def create_superuser(self, email, name, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if extra_fields["is_staff"] is not True or extra_fields["is_superuser"] is not True:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self._create_user(email, name, password, **extra_fields)
