"""Which secret keys the app refuses: used by config.settings and scripts/ensure_dotenv.py.

The key signs sessions, CSRF tokens and every JWT, so a key anyone can read (a default
that shipped in this repository, a placeholder) lets anyone forge a staff token. Only
the standard library here: settings import it before Django is set up.
"""

# Django's own bar (the `security.W009` deploy check): at least 50 characters and at
# least 5 different ones, and not Django's "django-insecure-" development prefix.
MIN_LENGTH = 50
MIN_DISTINCT_CHARACTERS = 5
INSECURE_PREFIX = "django-insecure-"

# Keys this project has published: the docker-compose.yml default until issue 16, the
# placeholder of .env.example, the Dockerfile's former build-time dummy.
PUBLISHED_KEYS = frozenset(
    {
        "compose-local-only-change-me-0a9f3c5e7b1d4f6a8c2e",
        "change-me-to-a-long-random-string",
        "collectstatic-only",
    }
)
# What placeholders say, in any letter case: "change-me", "CHANGEME", "change_me_please".
PLACEHOLDER_WORDS = ("change-me", "changeme", "change_me", "change me")


def secret_key_problem(key: str) -> str | None:
    """What makes `key` unfit to sign anything with debug off, or None if nothing does."""
    if not key:
        return "is not set"
    lowered = key.lower()
    if key in PUBLISHED_KEYS or any(word in lowered for word in PLACEHOLDER_WORDS):
        return "is a published placeholder"
    if key.startswith(INSECURE_PREFIX):
        return f"starts with {INSECURE_PREFIX!r}, Django's mark of a development key"
    if len(key) < MIN_LENGTH:
        return f"is {len(key)} characters long; it needs at least {MIN_LENGTH}"
    if len(set(key)) < MIN_DISTINCT_CHARACTERS:
        return f"has fewer than {MIN_DISTINCT_CHARACTERS} different characters"
    return None
