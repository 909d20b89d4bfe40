"""Accounts: change and reset a password, sign out, and the tokens that die with them."""

import datetime as dt
import logging
import re
import socket
import time

import pytest
from django.contrib.auth.models import Permission
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import aware_utcnow

from conftest import bearer_client
from users import emails
from users.accounts import check_not_revoked
from users.models import User

from .factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet-Otter-42-lamp"
RESET_URL = "https://app.example/reset/{uid}/{token}"


def earlier_tokens(user, seconds=2):
    """(access, refresh) issued `seconds` ago: `iat` counts whole seconds, so a token
    issued in the same second as a revocation is accepted (users.accounts)."""
    at = aware_utcnow() - dt.timedelta(seconds=seconds)
    refresh = RefreshToken.for_user(user)
    refresh.set_iat(at_time=at)
    access = refresh.access_token
    access.set_iat(at_time=at)
    return str(access), str(refresh)


def me(access):
    return bearer_client(access).get("/auth/me").status_code


def refresh_status(refresh):
    return APIClient().post("/auth/token/refresh", {"refresh": refresh}).status_code


def sign_in(email, password):
    response = APIClient().post("/auth/token", {"email": email, "password": password})
    return response.status_code, response.json()


def assert_revoked(access, refresh):
    assert me(access) == 401
    assert refresh_status(refresh) == 401


def reset_link_parts(message):
    uid, token = re.search(
        r"https://app\.example/reset/([^/\s]+)/([^/\s\"]+)", message.body
    ).groups()
    return uid, token


@pytest.fixture(autouse=True)
def _reset_url(settings):
    settings.FRONTEND_RESET_URL = RESET_URL


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run what the request scheduled for after its commit (cache drops, emails)."""

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return run


class TestPasswordChange:
    def test_changes_the_password_and_kills_earlier_tokens(self, user, on_commit):
        access, refresh = earlier_tokens(user)
        assert me(access) == 200  # now its user's fields are cached
        response = on_commit(
            lambda: bearer_client(access).post(
                "/auth/password/change",
                {"old_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
            )
        )
        assert response.status_code == 204
        assert_revoked(access, refresh)
        assert sign_in(user.email, TEST_PASSWORD)[0] == 401
        status, tokens = sign_in(user.email, NEW_PASSWORD)
        assert status == 200
        # Issued in the same second as the change, and after it: they work.
        assert me(tokens["access"]) == 200
        assert refresh_status(tokens["refresh"]) == 200

    def test_wrong_old_password_is_400_on_old_password(self, user):
        response = bearer_client(user).post(
            "/auth/password/change", {"old_password": "nope-nope-1", "new_password": NEW_PASSWORD}
        )
        assert response.status_code == 400
        assert list(response.json()) == ["old_password"]
        assert User.objects.get(pk=user.pk).check_password(TEST_PASSWORD)

    @pytest.mark.parametrize("weak", ["short1!", "12345678901", "password123"])
    def test_django_password_validators_apply(self, user, weak):
        response = bearer_client(user).post(
            "/auth/password/change", {"old_password": TEST_PASSWORD, "new_password": weak}
        )
        assert response.status_code == 400
        assert list(response.json()) == ["new_password"]
        assert User.objects.get(pk=user.pk).check_password(TEST_PASSWORD)

    def test_anonymous_is_401(self, api_client):
        response = api_client.post(
            "/api/v1/auth/password/change/",
            {"old_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
        )
        assert response.status_code == 401


class TestChangesOutsideTheApi:
    @pytest.fixture
    def superuser_client(self, client):
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
        return client

    def test_a_password_change_in_the_admin_kills_the_token_in_use(
        self, superuser_client, user, on_commit
    ):
        access, refresh = earlier_tokens(user)
        assert me(access) == 200
        response = on_commit(
            lambda: superuser_client.post(
                f"/admin/users/user/{user.pk}/password/",
                {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
            )
        )
        assert response.status_code == 302, response.content
        assert_revoked(access, refresh)
        assert sign_in(user.email, NEW_PASSWORD)[0] == 200

    def test_disabling_the_password_in_the_admin_kills_earlier_tokens(
        self, superuser_client, user, on_commit
    ):
        access, refresh = earlier_tokens(user)
        assert me(access) == 200
        response = on_commit(
            lambda: superuser_client.post(
                f"/admin/users/user/{user.pk}/password/",
                {"usable_password": "false", "unset-password": "1"},
            )
        )
        assert response.status_code == 302, response.content
        assert not User.objects.get(pk=user.pk).has_usable_password()
        assert_revoked(access, refresh)

    def test_set_unusable_password_and_save_in_the_orm(self, user, on_commit):
        access, refresh = earlier_tokens(user)
        assert me(access) == 200
        user = User.objects.get(pk=user.pk)
        user.set_unusable_password()
        on_commit(lambda: user.save(update_fields=["password"]))
        assert_revoked(access, refresh)

    def test_staff_cannot_sign_out_a_superuser(self, client, on_commit):
        staff = UserFactory(is_staff=True)
        staff.user_permissions.add(*Permission.objects.filter(codename="change_user"))
        root = UserFactory(is_staff=True, is_superuser=True)
        access, refresh = earlier_tokens(root)
        client.force_login(staff)
        response = on_commit(
            lambda: client.post(
                "/admin/users/user/",
                {"action": "sign_out_everywhere", "_selected_action": [root.pk]},
            )
        )
        assert response.status_code == 302
        assert User.objects.get(pk=root.pk).tokens_valid_after is None
        assert me(access) == 200
        assert refresh_status(refresh) == 200

    def test_set_password_and_save_in_the_orm(self, user, on_commit):
        access, refresh = earlier_tokens(user)
        assert me(access) == 200
        user = User.objects.get(pk=user.pk)
        user.set_password(NEW_PASSWORD)
        on_commit(lambda: user.save(update_fields=["password"]))
        assert User.objects.get(pk=user.pk).tokens_valid_after is not None
        assert_revoked(access, refresh)

    def test_deactivation_kills_refresh_and_access(self, user, on_commit):
        access, refresh = earlier_tokens(user)
        user = User.objects.get(pk=user.pk)
        user.is_active = False
        on_commit(user.save)
        assert User.objects.get(pk=user.pk).tokens_valid_after is not None
        User.objects.filter(pk=user.pk).update(is_active=True)  # even once reactivated
        assert_revoked(access, refresh)

    def test_other_saves_and_the_hash_upgrade_revoke_nothing(self, user):
        user = User.objects.get(pk=user.pk)
        user.name = "Renamed"
        user.save()
        User.objects.get(pk=user.pk).check_password(TEST_PASSWORD)  # may rehash: no change
        assert User.objects.get(pk=user.pk).tokens_valid_after is None

    def test_admin_sign_out_everywhere_action(self, superuser_client, user, on_commit):
        access, refresh = earlier_tokens(user)
        assert me(access) == 200
        response = on_commit(
            lambda: superuser_client.post(
                "/admin/users/user/",
                {"action": "sign_out_everywhere", "_selected_action": [user.pk]},
            )
        )
        assert response.status_code == 302
        assert BlacklistedToken.objects.filter(token__user=user).count() == 1
        assert_revoked(access, refresh)
        status, tokens = sign_in(user.email, TEST_PASSWORD)
        assert status == 200
        assert me(tokens["access"]) == 200


class TestPasswordReset:
    def request_reset(self, on_commit, email, client=None):
        client = client or APIClient()
        return on_commit(lambda: client.post("/auth/password/reset", {"email": email}))

    def test_sends_a_link_that_sets_a_new_password_once(self, user, on_commit):
        access, refresh = earlier_tokens(user)
        assert me(access) == 200
        response = self.request_reset(on_commit, user.email.upper())
        assert response.status_code == 202
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == [user.email]
        html, mimetype = message.alternatives[0]
        assert mimetype == "text/html"
        uid, token = reset_link_parts(message)
        assert f"https://app.example/reset/{uid}/{token}" in html
        assert uid == urlsafe_base64_encode(force_bytes(user.pk))

        body = {"uid": uid, "token": token, "new_password": NEW_PASSWORD}
        confirm = on_commit(lambda: APIClient().post("/auth/password/reset/confirm", body))
        assert confirm.status_code == 204
        assert sign_in(user.email, NEW_PASSWORD)[0] == 200
        assert_revoked(access, refresh)
        again = APIClient().post(
            "/auth/password/reset/confirm", {**body, "new_password": "other-Otter-43-lamp"}
        )
        assert again.status_code == 400
        assert list(again.json()) == ["token"]
        assert sign_in(user.email, NEW_PASSWORD)[0] == 200

    def test_an_unknown_address_is_202_and_sends_nothing(self, user, on_commit):
        known = self.request_reset(on_commit, user.email)
        mail.outbox.clear()
        unknown = self.request_reset(on_commit, "nobody@example.com")
        assert unknown.status_code == known.status_code == 202
        assert unknown.json() == known.json()
        assert mail.outbox == []

    def test_inactive_accounts_and_accounts_without_a_password_get_nothing(self, on_commit):
        inactive = UserFactory(is_active=False)
        no_password = User.objects.create_user(email="nopass@example.com", name="N")
        for email in (inactive.email, no_password.email):
            assert self.request_reset(on_commit, email).status_code == 202
        assert mail.outbox == []

    def test_an_expired_link_is_400(self, user, settings):
        generator = default_token_generator
        issued = generator._num_seconds(generator._now()) - settings.PASSWORD_RESET_TIMEOUT - 1
        token = generator._make_token_with_timestamp(user, issued, generator.secret)
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        response = APIClient().post(
            "/auth/password/reset/confirm",
            {"uid": uid, "token": token, "new_password": NEW_PASSWORD},
        )
        assert response.status_code == 400
        assert list(response.json()) == ["token"]

    def test_a_link_dies_when_the_user_signs_in(self, user, client):
        token = default_token_generator.make_token(user)
        # A session sign-in records last_login; the API's token sign-in does not
        # (simplejwt's UPDATE_LAST_LOGIN is off: a write, and a cache drop, per sign-in).
        assert client.login(email=user.email, password=TEST_PASSWORD)
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        body = {"uid": uid, "token": token, "new_password": NEW_PASSWORD}
        assert APIClient().post("/auth/password/reset/confirm", body).status_code == 400

    @pytest.mark.parametrize(
        "uid", ["foreign", "", "!!", "MA", "OTk5OTk5OTk5", "MTAwMDAwMDAwMDAwMDAwMDAwMDAwMA"]
    )
    def test_a_foreign_or_broken_uid_is_400(self, user, uid):
        other = UserFactory()
        token = default_token_generator.make_token(user)
        if uid == "foreign":
            uid = urlsafe_base64_encode(force_bytes(other.pk))
        response = APIClient().post(
            "/auth/password/reset/confirm",
            {"uid": uid, "token": token, "new_password": NEW_PASSWORD},
        )
        assert response.status_code == 400
        assert User.objects.get(pk=other.pk).check_password(TEST_PASSWORD)

    def test_a_weak_new_password_is_400_and_the_link_still_works(self, user):
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
        body = {"uid": uid, "token": token, "new_password": "password123"}
        weak = APIClient().post("/auth/password/reset/confirm", body)
        assert weak.status_code == 400
        assert list(weak.json()) == ["new_password"]
        body["new_password"] = NEW_PASSWORD
        assert APIClient().post("/auth/password/reset/confirm", body).status_code == 204

    def test_a_mail_server_that_refuses_is_still_202_and_logged(
        self, user, on_commit, settings, caplog
    ):
        with socket.socket() as probe:  # a port nothing listens on: connections refused
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 2},
            }
        }
        with caplog.at_level(logging.ERROR, logger="users.emails"):
            response = self.request_reset(on_commit, user.email)
        assert response.status_code == 202
        assert response.json()["detail"]
        failures = [r for r in caplog.records if r.name == "users.emails"]
        assert len(failures) == 1
        assert failures[0].exc_info[0] is ConnectionRefusedError
        assert user.email not in failures[0].getMessage()


@pytest.mark.django_db(transaction=True)
def test_reset_answers_before_sending_in_the_background(settings, capsys):
    """The deployed path: the lookup and the send run after the answer, on a thread."""
    settings.EMAIL_IN_BACKGROUND = True
    user = UserFactory()
    timings = {}
    for label, email in [("known", user.email), ("unknown", "nobody@example.com")] * 5:
        started = time.perf_counter()
        response = APIClient().post("/auth/password/reset", {"email": email})
        timings.setdefault(label, []).append(time.perf_counter() - started)
        assert response.status_code == 202
    emails.wait_for_background_tasks()
    assert len(mail.outbox) == 5
    assert {tuple(m.to) for m in mail.outbox} == {(user.email,)}
    with capsys.disabled():
        print(
            "\nreset request, median ms: "
            + ", ".join(f"{k}={sorted(v)[2] * 1000:.2f}" for k, v in timings.items())
        )


class TestLogout:
    def test_blacklists_that_refresh_token_only(self, user):
        access, refresh = earlier_tokens(user)
        _, other_refresh = earlier_tokens(user)
        response = bearer_client(access).post("/auth/logout", {"refresh": refresh})
        assert response.status_code == 204
        assert refresh_status(refresh) == 401
        assert refresh_status(other_refresh) == 200
        assert me(access) == 200  # an access token lives out its short life

    def test_another_users_refresh_token_is_400_and_kept(self, user):
        _, theirs = earlier_tokens(UserFactory())
        response = bearer_client(user).post("/auth/logout", {"refresh": theirs})
        assert response.status_code == 400
        assert list(response.json()) == ["refresh"]
        assert refresh_status(theirs) == 200

    @pytest.mark.parametrize("refresh", ["garbage", ""])
    def test_a_bad_token_is_400(self, user, refresh):
        response = bearer_client(user).post("/auth/logout", {"refresh": refresh})
        assert response.status_code == 400
        assert list(response.json()) == ["refresh"]

    def test_an_access_token_is_not_a_refresh_token(self, user):
        access, _ = earlier_tokens(user)
        assert bearer_client(access).post("/auth/logout", {"refresh": access}).status_code == 400

    def test_anonymous_is_401(self, api_client):
        assert api_client.post("/auth/logout", {"refresh": "x"}).status_code == 401


class TestLogoutAll:
    def test_kills_every_earlier_token_and_later_ones_work(self, user, on_commit):
        access, refresh = earlier_tokens(user)
        other_access, other_refresh = earlier_tokens(user)
        assert me(access) == 200
        response = on_commit(lambda: bearer_client(access).post("/auth/logout-all"))
        assert response.status_code == 204
        assert BlacklistedToken.objects.filter(token__user=user).count() == 2
        assert_revoked(access, refresh)
        assert_revoked(other_access, other_refresh)
        status, tokens = sign_in(user.email, TEST_PASSWORD)
        assert status == 200
        assert me(tokens["access"]) == 200
        assert refresh_status(tokens["refresh"]) == 200

    def test_other_users_keep_their_tokens(self, user, on_commit):
        other = UserFactory()
        access, refresh = earlier_tokens(other)
        on_commit(lambda: bearer_client(user).post("/auth/logout-all"))
        assert me(access) == 200
        assert refresh_status(refresh) == 200

    def test_anonymous_is_401(self, api_client):
        assert api_client.post("/auth/logout-all").status_code == 401


class TestThrottling:
    @pytest.fixture
    def rates(self, settings):
        def set_rates(auth="100/min", account="2/min"):
            settings.REST_FRAMEWORK = {
                **settings.REST_FRAMEWORK,
                "DEFAULT_THROTTLE_RATES": {
                    "auth": auth,
                    "user": "100/min",
                    "account": "100/min",
                    "account_recovery": account,
                },
            }

        return set_rates

    @staticmethod
    def assert_limited(response):
        assert response.status_code == 429
        assert 1 <= int(response["Retry-After"]) <= 60
        assert "detail" in response.json()

    def test_reset_requests_per_account_from_any_address(self, user, rates):
        rates()
        statuses = [
            APIClient()
            .post("/auth/password/reset", {"email": email}, REMOTE_ADDR=f"10.0.0.{i}")
            .status_code
            for i, email in enumerate([user.email, user.email.upper(), f" {user.email}"])
        ]
        assert statuses[:2] == [202, 202]
        limited = APIClient().post(
            "/auth/password/reset", {"email": user.email}, REMOTE_ADDR="10.0.1.1"
        )
        self.assert_limited(limited)
        other = APIClient().post("/auth/password/reset", {"email": "other@example.com"})
        assert other.status_code == 202

    def test_reset_requests_per_address(self, rates):
        rates(auth="2/min", account="100/min")
        statuses = [
            APIClient().post("/auth/password/reset", {"email": f"u{i}@example.com"}).status_code
            for i in range(3)
        ]
        assert statuses == [202, 202, 429]

    def test_reset_confirmations_per_uid(self, user, rates):
        rates()
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        body = {"uid": uid, "token": "1-x", "new_password": NEW_PASSWORD}
        statuses = [
            APIClient()
            .post("/auth/password/reset/confirm", body, REMOTE_ADDR=f"10.0.0.{i}")
            .status_code
            for i in range(2)
        ]
        assert statuses == [400, 400]
        self.assert_limited(
            APIClient().post("/auth/password/reset/confirm", body, REMOTE_ADDR="10.0.2.2")
        )

    def test_other_spellings_of_a_uid_share_its_budget(self, user, rates):
        rates()
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        # The same pk, spelled "043" and " 43": int() reads both.
        spellings = [uid, *(urlsafe_base64_encode(force_bytes(f"{p}{user.pk}")) for p in "0 ")]
        statuses = [
            APIClient()
            .post(
                "/auth/password/reset/confirm",
                {"uid": spelling, "token": "1-x", "new_password": NEW_PASSWORD},
                REMOTE_ADDR=f"10.0.3.{i}",
            )
            .status_code
            for i, spelling in enumerate(spellings)
        ]
        assert statuses[:2] == [400, 400]
        assert statuses[2] == 429

    def test_password_changes_per_user(self, user, rates):
        rates()
        body = {"old_password": "wrong-guess-1", "new_password": NEW_PASSWORD}
        client = bearer_client(user)
        assert [client.post("/auth/password/change", body).status_code for _ in range(2)] == [
            400,
            400,
        ]
        self.assert_limited(client.post("/auth/password/change", body))
        assert User.objects.get(pk=user.pk).check_password(TEST_PASSWORD)

    def test_password_changes_per_address(self, rates):
        rates(auth="2/min", account="100/min")
        body = {"old_password": "wrong-guess-1", "new_password": NEW_PASSWORD}
        statuses = [
            bearer_client(UserFactory()).post("/auth/password/change", body).status_code
            for _ in range(3)
        ]
        assert statuses == [400, 400, 429]


class TestIssuedAtResolution:
    """`iat` counts whole seconds: the second of the revocation is given the benefit."""

    @pytest.mark.parametrize(
        ("iat_offset", "refused"), [(-1, True), (0, False), (1, False)], ids=str
    )
    def test_compares_with_the_whole_second_of_the_revocation(self, iat_offset, refused):
        valid_after = dt.datetime(2026, 12, 1, 12, 0, 0, 900_000, tzinfo=dt.UTC)
        token = {"iat": int(valid_after.timestamp()) + iat_offset}
        if refused:
            with pytest.raises(AuthenticationFailed):
                check_not_revoked(token, {"tokens_valid_after": valid_after})
        else:
            check_not_revoked(token, {"tokens_valid_after": valid_after})

    def test_nothing_is_refused_before_any_revocation_and_a_token_without_iat_after(self):
        check_not_revoked({}, {"tokens_valid_after": None})
        with pytest.raises(AuthenticationFailed):
            check_not_revoked({}, {"tokens_valid_after": dt.datetime.now(dt.UTC)})
