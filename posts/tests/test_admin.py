"""Posts in the Django admin, and the posts shown on a user's admin page."""

import pytest

from posts.models import Post
from users.models import User
from users.tests.factories import UserFactory

from .factories import PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser(email="root@x.io", name="R", password="pw"))
    return client


def test_changelist_searches_by_title_and_user_email(admin_client):
    PostFactory(title="Findable title")
    PostFactory(title="Other", user=UserFactory(email="author@x.io"))
    PostFactory(title="Hidden")
    by_title = admin_client.get("/admin/posts/post/", {"q": "findable"}).content.decode()
    assert "Findable title" in by_title
    assert "Hidden" not in by_title
    by_email = admin_client.get("/admin/posts/post/", {"q": "author@x.io"}).content.decode()
    assert "Other" in by_email
    assert "Hidden" not in by_email


def test_changelist_filters_by_date(admin_client):
    PostFactory(title="Recent")
    response = admin_client.get(
        "/admin/posts/post/", {"created_at__gte": "2000-01-01 00:00:00+00:00"}
    )
    assert response.status_code == 200
    assert "Recent" in response.content.decode()


def test_add_form_picks_the_user_by_autocomplete_not_a_select_of_all(admin_client):
    for _ in range(5):
        UserFactory()
    content = admin_client.get("/admin/posts/post/add/").content.decode()
    assert "admin-autocomplete" in content
    # Only the empty choice is rendered; the options come from the autocomplete view.
    assert content.count("<option") <= 1


def test_add_form_creates_a_post(admin_client):
    author = UserFactory()
    response = admin_client.post(
        "/admin/posts/post/add/", {"user": author.pk, "title": "From admin", "content": "C"}
    )
    assert response.status_code == 302
    assert Post.objects.get(title="From admin").user == author


def test_user_autocomplete_finds_by_email(admin_client):
    UserFactory(email="needle@x.io")
    response = admin_client.get(
        "/admin/autocomplete/",
        {"term": "needle", "app_label": "posts", "model_name": "post", "field_name": "user"},
    )
    assert [r["text"] for r in response.json()["results"]] == ["needle@x.io"]


def test_user_changelist_shows_post_counts_in_one_query(
    admin_client, django_assert_max_num_queries
):
    prolific = UserFactory(email="prolific@x.io")
    PostFactory.create_batch(3, user=prolific)
    for _ in range(5):
        PostFactory()
    # Session, user, count, page: the per-row post count adds no query.
    with django_assert_max_num_queries(6):
        response = admin_client.get("/admin/users/user/")
    assert response.status_code == 200
    rows = response.context["cl"].result_list
    assert {u.email: u.post_count for u in rows}["prolific@x.io"] == 3


def test_user_change_page_shows_count_and_latest_posts(admin_client):
    author = UserFactory()
    PostFactory.create_batch(12, user=author)
    newest = Post.objects.filter(user=author).order_by("-id").first()
    oldest = Post.objects.filter(user=author).order_by("id").first()
    content = admin_client.get(f"/admin/users/user/{author.pk}/change/").content.decode()
    assert newest.title in content
    assert f">{oldest.title}<" not in content  # only the latest ten are listed
    assert ">12<" in content


def test_add_form_refuses_content_over_the_limit(admin_client):
    author = UserFactory()
    response = admin_client.post(
        "/admin/posts/post/add/", {"user": author.pk, "title": "Long", "content": "x" * 20_001}
    )
    assert response.status_code == 200
    assert "at most 20000 characters" in response.content.decode()
    assert not Post.objects.exists()
