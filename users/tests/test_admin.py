"""Users in the Django admin, as staff see them."""

import pytest

from users.models import User

from .factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    superuser = User.objects.create_superuser(email="root@x.io", name="Root", password="pw-1234567")
    client.force_login(superuser)
    return client


def test_changelist_lists_and_searches(admin_client):
    UserFactory(name="Findable Person", email="findme@x.io")
    UserFactory(name="Someone Else")
    response = admin_client.get("/admin/users/user/", {"q": "findme"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "findme@x.io" in content
    assert "Someone Else" not in content


def test_changelist_filters_by_staff(admin_client):
    UserFactory(email="member@x.io")
    response = admin_client.get("/admin/users/user/", {"is_staff__exact": "1"})
    assert "member@x.io" not in response.content.decode()
    assert "root@x.io" in response.content.decode()


def test_add_form_creates_a_user_with_a_password(admin_client):
    response = admin_client.post(
        "/admin/users/user/add/",
        {
            "email": "added@x.io",
            "name": "Added",
            "usable_password": "true",
            "password1": "Str0ng-enough-pw",
            "password2": "Str0ng-enough-pw",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    added = User.objects.get(email="added@x.io")
    assert added.check_password("Str0ng-enough-pw")


def test_add_form_without_a_password_makes_an_unusable_one(admin_client):
    admin_client.post(
        "/admin/users/user/add/",
        {"email": "nopw@x.io", "name": "No Pw", "usable_password": "false"},
    )
    assert not User.objects.get(email="nopw@x.io").has_usable_password()


def test_change_form_renders_and_saves(admin_client):
    member = UserFactory()
    url = f"/admin/users/user/{member.pk}/change/"
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"email": member.email, "name": "Changed", "is_active": "on"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.name == "Changed"


def test_members_cannot_use_the_admin(client):
    client.force_login(UserFactory())
    response = client.get("/admin/users/user/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
