"""Users in the Django admin, as staff see them."""

import re

import pytest

from users.models import User

from .factories import TEST_PASSWORD, UserFactory

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


class TestLoginLimits:
    """The admin's login is limited like /auth/token: per address and per account."""

    URL = "/admin/login/?next=/admin/"

    @staticmethod
    def log_in(client, email, password, address="192.0.2.1"):
        return client.post(
            TestLoginLimits.URL, {"username": email, "password": password}, REMOTE_ADDR=address
        )

    @staticmethod
    def signed_in(client):
        return client.get("/admin/").status_code == 200

    def test_thirty_wrong_passwords_from_one_address_then_the_right_one_is_refused(
        self, client, staff
    ):
        wrong = [self.log_in(client, staff.email, f"guess-{i}") for i in range(30)]
        assert [r.status_code for r in wrong] == [200] * 10 + [429] * 20
        right = self.log_in(client, staff.email, TEST_PASSWORD)
        assert right.status_code == 429
        assert 1 <= int(right["Retry-After"]) <= 15 * 60
        assert "Too many sign-in attempts" in right.content.decode()
        assert 'id="login-form"' in right.content.decode()  # still the form
        assert not self.signed_in(client)

    def test_failures_from_many_addresses_are_limited_per_account(self, client, staff):
        statuses = [
            self.log_in(client, staff.email, "wrong-pass", f"198.51.100.{i}").status_code
            for i in range(12)
        ]
        assert statuses == [200] * 10 + [429] * 2
        assert self.log_in(client, staff.email, TEST_PASSWORD, "203.0.113.9").status_code == 429
        assert not self.signed_in(client)

    def test_an_unknown_account_is_answered_exactly_like_a_real_one(self, client, staff):
        def attempts(email):
            responses = [
                self.log_in(client, email, "wrong-pass", f"198.51.100.{i}") for i in range(11)
            ]
            errors = [str(r.context["form"].errors) for r in responses]
            # The seconds to wait tick on between the two runs; the words may not differ.
            return [r.status_code for r in responses], [re.sub(r"\d+", "N", e) for e in errors]

        assert attempts(staff.email) == attempts("nobody@x.io")

    def test_failures_on_the_api_count_against_the_admin_login(self, client, api_client, staff):
        for i in range(10):
            api_client.post(
                "/auth/token",
                {"email": staff.email, "password": "wrong-pass"},
                REMOTE_ADDR=f"198.51.100.{i}",
            )
        assert self.log_in(client, staff.email, TEST_PASSWORD, "203.0.113.9").status_code == 429

    def test_successful_sign_ins_do_not_count(self, client, staff):
        for i in range(12):
            response = self.log_in(client, staff.email, TEST_PASSWORD, f"198.51.100.{i}")
            assert response.status_code == 302
            client.logout()

    def test_while_the_counters_are_unreachable_the_login_refuses(
        self, client, staff, private_redis
    ):
        private_redis.kill()
        response = self.log_in(client, staff.email, TEST_PASSWORD)
        assert response.status_code == 503
        assert "unavailable for a moment" in response.content.decode()
        assert "Retry-After" not in response
        assert not self.signed_in(client)
        assert client.get(self.URL).status_code == 200  # the page itself still shows
