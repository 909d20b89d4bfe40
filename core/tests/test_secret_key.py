"""The secret-key rule (core.secret_key) and scripts/ensure_dotenv.py, which applies it."""

import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.checks.security.base import check_secret_key
from django.core.management.utils import get_random_secret_key

from core.secret_key import secret_key_problem

BASE_DIR = Path(settings.BASE_DIR)


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "is not set"),
        # The default docker-compose.yml shipped, which signed every JWT.
        ("compose-local-only-change-me-0a9f3c5e7b1d4f6a8c2e", "is a published placeholder"),
        ("change-me-to-a-long-random-string", "is a published placeholder"),
        ("collectstatic-only", "is a published placeholder"),
        ("CHANGEME-" + secrets.token_urlsafe(50), "is a published placeholder"),
        ("please_change_me_" + secrets.token_urlsafe(50), "is a published placeholder"),
        ("django-insecure-" + secrets.token_urlsafe(50), "starts with 'django-insecure-'"),
        (secrets.token_urlsafe(36), "characters long; it needs at least 50"),  # 48 chars
        ("abcd" * 20, "has fewer than 5 different characters"),
    ],
)
def test_refused_keys_say_why(key, problem):
    assert problem in secret_key_problem(key)


@pytest.mark.parametrize(
    "key",
    [
        secrets.token_urlsafe(50),  # what `make run` and the tests generate
        get_random_secret_key(),  # what `django-admin startproject` generates
        secrets.token_hex(32),
    ],
)
def test_random_keys_and_the_test_settings_key_pass(key):
    assert secret_key_problem(key) is None


def test_the_test_settings_key_passes_ours_and_djangos_deploy_check():
    # config.test_settings' key (the suite could not even start with a refused one).
    assert settings.SECRET_KEY.startswith("tests-only-secret-key")
    assert secret_key_problem(settings.SECRET_KEY) is None
    assert check_secret_key(None) == []  # security.W009 of `check --deploy`


class TestEnsureDotenv:
    """`make run` and `make compose-up` write a key the app accepts, and keep a good one."""

    @pytest.fixture
    def project(self, tmp_path):
        for path in ("scripts/ensure_dotenv.py", "core/__init__.py", "core/secret_key.py"):
            (tmp_path / path).parent.mkdir(exist_ok=True)
            shutil.copy(BASE_DIR / path, tmp_path / path)
        shutil.copy(BASE_DIR / ".env.example", tmp_path / ".env.example")
        return tmp_path

    @staticmethod
    def run(project):
        subprocess.run(  # noqa: S603 - our own script
            [sys.executable, str(project / "scripts/ensure_dotenv.py")], check=True, timeout=30
        )
        lines = (project / ".env").read_text().splitlines()
        return next(line for line in lines if line.startswith("DJANGO_SECRET_KEY="))[18:]

    def test_a_fresh_clone_gets_a_usable_key_of_its_own(self, project):
        key = self.run(project)
        assert secret_key_problem(key) is None
        assert oct((project / ".env").stat().st_mode)[-3:] == "600"
        assert self.run(project) == key  # kept on the next run

    def test_a_placeholder_copied_from_elsewhere_is_replaced(self, project):
        (project / ".env").write_text(
            "DJANGO_DEBUG=0\nDJANGO_SECRET_KEY=change-me-to-a-long-random-string\n"
        )
        key = self.run(project)
        assert secret_key_problem(key) is None
        assert (project / ".env").read_text().startswith("DJANGO_DEBUG=0\n")

    def test_a_usable_key_is_left_alone(self, project):
        mine = secrets.token_urlsafe(50)
        (project / ".env").write_text(f"DJANGO_SECRET_KEY={mine}\n")
        assert self.run(project) == mine


def test_the_example_env_holds_no_key():
    assert "DJANGO_SECRET_KEY=\n" in (BASE_DIR / ".env.example").read_text()
