"""Users in the Django admin, as staff see them."""

import re

import pytest
from django.contrib.auth.models import Permission

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


def admin_user(role):
    """A superuser, or staff holding every users permission, signed in to the admin."""
    if role == "superuser":
        return UserFactory(is_staff=True, is_superuser=True)
    staff = UserFactory(is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="users"))
    return staff


# (what the actor does to a superuser, {actor: expected status}); 403 comes from the
# admin's PermissionDenied, as JSON.
SUPERUSER_ADMIN_TABLE = [
    ("change", {"staff": 403, "superuser": 302}),
    ("password", {"staff": 403, "superuser": 302}),
    ("delete", {"staff": 403, "superuser": 302}),
    ("bulk delete", {"staff": 403, "superuser": 302}),
]


def act_on(client, action, target):
    base = f"/admin/users/user/{target.pk}"
    if action == "change":
        form = {"email": "taken-over@x.io", "name": "Taken", "is_active": "on"}
        return client.post(f"{base}/change/", {**form, "is_staff": "on", "is_superuser": "on"})
    if action == "password":
        new = {"password1": "N3w-password-xyz", "password2": "N3w-password-xyz"}
        return client.post(f"{base}/password/", {**new, "usable_password": "true"})
    if action == "delete":
        return client.post(f"{base}/delete/", {"post": "yes"})
    other = UserFactory()
    return client.post(
        "/admin/users/user/",
        {"action": "delete_selected", "_selected_action": [other.pk, target.pk], "post": "yes"},
    )


@pytest.mark.parametrize(
    ("action", "actor", "expected"),
    [
        pytest.param(action, actor, statuses[actor], id=f"{actor}-{action}")
        for action, statuses in SUPERUSER_ADMIN_TABLE
        for actor in statuses
    ],
)
def test_only_a_superuser_changes_or_deletes_a_superuser_in_the_admin(
    client, action, actor, expected
):
    target = UserFactory(is_staff=True, is_superuser=True, email="root-target@x.io")
    client.force_login(admin_user(actor))
    users_before = User.objects.count()
    response = act_on(client, action, target)
    assert response.status_code == expected, response.content.decode()[:2000]
    if expected == 403:
        target.refresh_from_db()
        assert (target.email, target.check_password(TEST_PASSWORD)) == ("root-target@x.io", True)
        assert User.objects.count() == users_before + (action == "bulk delete")


def test_staff_see_a_superuser_read_only_and_without_a_delete_link(client):
    target = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user("staff"))
    response = client.get(f"/admin/users/user/{target.pk}/change/")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="email"' not in content
    assert f"/admin/users/user/{target.pk}/delete/" not in content


def test_staff_still_change_members_in_the_admin(client):
    member = UserFactory()
    client.force_login(admin_user("staff"))
    response = client.post(
        f"/admin/users/user/{member.pk}/change/",
        {"email": member.email, "name": "Changed", "is_active": "on"},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.name == "Changed"


def test_staff_cannot_make_anyone_a_superuser_in_the_admin(client):
    staff = admin_user("staff")
    client.force_login(staff)
    for target in (staff, UserFactory()):
        response = client.post(
            f"/admin/users/user/{target.pk}/change/",
            {"email": target.email, "name": "N", "is_active": "on", "is_staff": "on"}
            | {"is_superuser": "on"},
        )
        assert response.status_code == 302
        target.refresh_from_db()
        assert not target.is_superuser


@pytest.mark.parametrize(
    "email", ["alice@exаmple.com", "alıce@example.com", "alice@ex\u200bample.com"]
)
def test_the_admin_forms_refuse_lookalike_emails(admin_client, email):
    UserFactory(email="alice@example.com")
    added = admin_client.post(
        "/admin/users/user/add/", {"email": email, "name": "M", "usable_password": "false"}
    )
    assert added.status_code == 200
    assert "errornote" in added.content.decode()
    member = UserFactory()
    changed = admin_client.post(
        f"/admin/users/user/{member.pk}/change/",
        {"email": email, "name": member.name, "is_active": "on"},
    )
    assert changed.status_code == 200
    assert User.objects.get(pk=member.pk).email == member.email
    assert User.objects.count() == 3  # root, alice and the member


def test_the_admin_stores_the_normalised_email(admin_client):
    admin_client.post(
        "/admin/users/user/add/",
        {"email": "New@Bücher.DE", "name": "N", "usable_password": "false"},
    )
    assert User.objects.filter(email="new@xn--bcher-kva.de").exists()
