"""seed_demo_data and clear_api_cache."""

import os
import secrets

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.tests.servers import manage
from posts.models import Post
from users.models import User

pytestmark = pytest.mark.django_db


def seed(**options):
    call_command("seed_demo_data", **options)


def test_seeds_users_with_posts_each(user):
    seed(users=30, posts_per_user=3, seed=7)
    assert User.objects.count() == 31
    assert Post.objects.count() == 90
    new_users = User.objects.exclude(pk=user.pk)
    assert {u.posts.count() for u in new_users} == {3}
    assert not any(u.has_usable_password() for u in new_users)
    assert len({u.email.lower() for u in new_users}) == 30


def test_is_reproducible_and_can_run_again():
    seed(users=10, posts_per_user=1, seed=3)
    first = list(User.objects.order_by("id").values_list("name", flat=True))
    first_titles = list(Post.objects.order_by("id").values_list("title", flat=True))
    seed(users=10, posts_per_user=1, seed=3)
    second = list(User.objects.order_by("id").values_list("name", flat=True))[10:]
    assert second == first
    assert list(Post.objects.order_by("id").values_list("title", flat=True))[10:] == first_titles
    assert User.objects.count() == 20


def test_dates_are_spread_over_the_past_year():
    seed(users=200, posts_per_user=0, seed=1)
    dates = list(User.objects.values_list("created_at", flat=True))
    assert (max(dates) - min(dates)).days > 200


def test_invalidates_the_api_caches(member_client, django_capture_on_commit_callbacks):
    assert member_client.get("/users").json()["count"] == 1
    assert member_client.get("/users")["X-Cache"] == "HIT"
    with django_capture_on_commit_callbacks(execute=True):
        seed(users=5, posts_per_user=2)
    listing = member_client.get("/users")
    assert listing["X-Cache"] == "MISS"
    assert listing.json()["count"] == 6
    assert member_client.get("/posts").json()["count"] == 10


def test_refuses_negative_counts():
    with pytest.raises(CommandError):
        seed(users=-1)


def test_clear_api_cache_drops_cached_pages(member_client):
    member_client.get("/users")
    assert member_client.get("/users")["X-Cache"] == "HIT"
    call_command("clear_api_cache")
    assert member_client.get("/users")["X-Cache"] == "MISS"


def test_clear_api_cache_fails_loudly_when_the_cache_is_unreachable(settings):
    from core.tests.servers import free_port

    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}
    }
    with pytest.raises(CommandError):
        call_command("clear_api_cache")


def test_works_on_the_embedded_sqlite_default(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_ENV_FILE": os.devnull,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
    }
    env.pop("REDIS_URL", None)

    def run(*args):
        result = manage(*args, env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    run("migrate", "--noinput", "--verbosity", "0")
    assert "Created 25 users and 50 posts." in run(
        "seed_demo_data", "--users", "25", "--posts-per-user", "2"
    )
    assert "API cache cleared." in run("clear_api_cache")
