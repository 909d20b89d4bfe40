"""Settings for the test suite: the real PostgreSQL and Redis, defaulting to 127.0.0.1.

Environment variables still win, so CI or a developer can point the tests elsewhere.
"""

import os

os.environ.setdefault(
    "DJANGO_SECRET_KEY", "tests-only-secret-key-not-for-any-deployment-0123456789abcdefghijklmnop"
)
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/users_posts")
# A database number of its own: the suite flushes it between tests.
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")

from config.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only

# The manifest exists only after collectstatic; tests render templates without it.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

REST_FRAMEWORK = {**REST_FRAMEWORK, "TEST_REQUEST_DEFAULT_FORMAT": "json"}  # noqa: F405

# Emails are sent in the committing thread, so that they see the test's uncommitted rows;
# tests of the background path turn it back on (users/tests/test_accounts.py).
EMAIL_IN_BACKGROUND = False
