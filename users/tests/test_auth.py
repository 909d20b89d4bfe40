"""Sign-up, sign-in, token refresh and rotation, /auth/me, token validity, throttling."""

import datetime as dt
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from conftest import bearer_client
from users.models import User

from .factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "violet-Otter-42-lamp"
WRONG_PASSWORD = "wrong-pass"


def bearer(token):
    return bearer_client(str(token))


def sign_in(client, user):
    response = client.post(
        "/auth/token", {"email": user.email, "password": TEST_PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


class TestRegister:
    def test_creates_a_user_who_can_then_sign_in(self, api_client):
        response = api_client.post(
            "/auth/register",
            {"name": "Ann", "email": "ann@x.io", "password": STRONG_PASSWORD},
            format="json",
        )
        assert response.status_code == 201
        assert set(response.json()) == {"id", "name", "email", "created_at"}
        assert STRONG_PASSWORD not in response.content.decode()
        tokens = api_client.post(
            "/auth/token/", {"email": "ann@x.io", "password": STRONG_PASSWORD}, format="json"
        ).json()
        assert set(tokens) == {"access", "refresh"}
        assert not User.objects.get(email="ann@x.io").is_staff

    @pytest.mark.parametrize(
        ("password", "message"),
        [
            ("short1!", "This password is too short. It must contain at least 8 characters."),
            ("12345678901", "This password is entirely numeric."),
            ("password123", "This password is too common."),
        ],
    )
    def test_django_password_validators_apply(self, api_client, password, message):
        response = api_client.post(
            "/auth/register", {"name": "A", "email": "a@x.io", "password": password}, format="json"
        )
        assert response.status_code == 400
        assert message in response.json()["password"]
        assert not User.objects.filter(email="a@x.io").exists()

    def test_password_similar_to_the_email_is_refused(self, api_client):
        response = api_client.post(
            "/auth/register",
            {"name": "A", "email": "longusername@x.io", "password": "longusername"},
            format="json",
        )
        assert response.status_code == 400
        assert "password" in response.json()

    def test_password_is_required(self, api_client):
        response = api_client.post(
            "/auth/register", {"name": "A", "email": "a@x.io"}, format="json"
        )
        assert response.status_code == 400
        assert "password" in response.json()

    def test_duplicate_email_is_400_on_email(self, api_client, user):
        response = api_client.post(
            "/auth/register",
            {"name": "A", "email": user.email.upper(), "password": STRONG_PASSWORD},
            format="json",
        )
        assert response.status_code == 400
        assert list(response.json()) == ["email"]

    def test_staff_flags_cannot_be_self_granted(self, api_client):
        response = api_client.post(
            "/auth/register",
            {
                "name": "A",
                "email": "a@x.io",
                "password": STRONG_PASSWORD,
                "is_staff": True,
                "is_superuser": True,
            },
            format="json",
        )
        assert response.status_code == 201
        created = User.objects.get(email="a@x.io")
        assert not created.is_staff
        assert not created.is_superuser


class TestToken:
    def test_email_letter_case_does_not_matter(self, api_client, user):
        response = api_client.post(
            "/auth/token", {"email": user.email.upper(), "password": TEST_PASSWORD}, format="json"
        )
        assert response.status_code == 200

    def test_wrong_password_is_401(self, api_client, user):
        response = api_client.post(
            "/auth/token", {"email": user.email, "password": "nope-nope"}, format="json"
        )
        assert response.status_code == 401

    def test_unknown_email_is_401(self, api_client):
        response = api_client.post(
            "/auth/token", {"email": "ghost@x.io", "password": "whatever1"}, format="json"
        )
        assert response.status_code == 401

    def test_inactive_user_is_401(self, api_client):
        inactive = UserFactory(is_active=False)
        response = api_client.post(
            "/auth/token", {"email": inactive.email, "password": TEST_PASSWORD}, format="json"
        )
        assert response.status_code == 401

    def test_missing_fields_are_400(self, api_client):
        response = api_client.post("/auth/token", {"email": "a@x.io"}, format="json")
        assert response.status_code == 400
        assert "password" in response.json()

    def test_access_token_authenticates(self, api_client, user):
        tokens = sign_in(api_client, user)
        response = bearer(tokens["access"]).get("/auth/me")
        assert response.status_code == 200
        assert response.json()["id"] == user.pk

    def test_user_without_a_password_cannot_sign_in(self, api_client):
        nopw = User.objects.create_user(email="nopw@x.io", name="N")
        response = api_client.post(
            "/auth/token", {"email": nopw.email, "password": ""}, format="json"
        )
        assert response.status_code in {400, 401}
        assert "access" not in response.json()


class TestRefresh:
    def test_rotates_and_blacklists_the_used_token(self, api_client, user):
        first = sign_in(api_client, user)
        response = api_client.post("/auth/token/refresh", {"refresh": first["refresh"]})
        assert response.status_code == 200
        second = response.json()
        assert set(second) == {"access", "refresh"}
        assert second["refresh"] != first["refresh"]
        assert bearer(second["access"]).get("/auth/me").status_code == 200

        reused = api_client.post("/auth/token/refresh", {"refresh": first["refresh"]})
        assert reused.status_code == 401
        # The rotated-in token still works once.
        assert (
            api_client.post("/auth/token/refresh", {"refresh": second["refresh"]}).status_code
            == 200
        )

    def test_garbage_refresh_is_401(self, api_client):
        response = api_client.post("/auth/token/refresh", {"refresh": "not.a.token"})
        assert response.status_code == 401

    def test_an_access_token_is_not_a_refresh_token(self, api_client, user):
        tokens = sign_in(api_client, user)
        response = api_client.post("/auth/token/refresh", {"refresh": tokens["access"]})
        assert response.status_code == 401

    def test_refresh_token_of_a_deleted_user_is_401_like_any_dead_token(self, api_client, user):
        tokens = sign_in(api_client, user)
        user.delete()
        response = api_client.post("/auth/token/refresh", {"refresh": tokens["refresh"]})
        assert response.status_code == 401
        garbage = api_client.post("/auth/token/refresh", {"refresh": "not.a.token"})
        assert set(response.json()) == set(garbage.json()) == {"detail", "code"}
        assert response["WWW-Authenticate"] == garbage["WWW-Authenticate"]
        assert response.json()["code"] == "no_active_account"

    def test_refresh_token_of_a_deactivated_user_is_401(self, api_client, user):
        tokens = sign_in(api_client, user)
        user.is_active = False
        user.save()
        response = api_client.post("/auth/token/refresh", {"refresh": tokens["refresh"]})
        assert response.status_code == 401
        assert set(response.json()) == {"detail", "code"}
        assert response.json()["code"] == "no_active_account"


def refresh_concurrently(token: str, times: int) -> list:
    """Responses to `times` refreshes of one token, released at the same instant."""
    start = threading.Barrier(times)

    def refresh(_):
        try:
            start.wait(timeout=10)
            return APIClient().post("/auth/token/refresh", {"refresh": token}, format="json")
        finally:
            connection.close()  # each thread's own connection, or it outlives the test

    with ThreadPoolExecutor(max_workers=times) as pool:
        return list(pool.map(refresh, range(times)))


@pytest.mark.django_db(transaction=True)
class TestRefreshRace:
    """A stolen refresh token must not fork into several live chains."""

    @pytest.fixture
    def high_auth_rate(self, settings):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                "auth": "1000/min",
            },
        }

    def test_of_concurrent_refreshes_of_one_token_exactly_one_succeeds(
        self, api_client, user, high_auth_rate
    ):
        first = sign_in(api_client, user)["refresh"]
        responses = refresh_concurrently(first, 8)

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] + [401] * 7, [r.content for r in responses]
        losers = [r.json() for r in responses if r.status_code == 401]
        assert all(body["detail"] == "Token is blacklisted" for body in losers), losers
        winner = next(r.json() for r in responses if r.status_code == 200)
        again = api_client.post("/auth/token/refresh", {"refresh": winner["refresh"]})
        assert again.status_code == 200
        assert api_client.post("/auth/token/refresh", {"refresh": first}).status_code == 401


class TestTokenValidity:
    def test_expired_access_token_is_401(self, user):
        token = AccessToken.for_user(user)
        token.set_exp(lifetime=-dt.timedelta(seconds=1))
        response = bearer(str(token)).get("/auth/me")
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")

    def test_tampered_access_token_is_401(self, user):
        token = str(AccessToken.for_user(user))
        header, payload, signature = token.split(".")
        forged = f"{header}.{payload}.{signature[:-4]}AAAA"
        assert bearer(forged).get("/auth/me").status_code == 401

    def test_payload_swapped_for_another_users_is_401(self, user, staff):
        mine = str(AccessToken.for_user(user)).split(".")
        theirs = str(AccessToken.for_user(staff)).split(".")
        forged = f"{mine[0]}.{theirs[1]}.{mine[2]}"
        assert bearer(forged).get("/auth/me").status_code == 401

    @pytest.mark.parametrize("algorithm", ["HS512", "none"])
    def test_wrong_algorithm_is_401(self, user, algorithm):
        claims = dict(AccessToken.for_user(user).payload)
        key = settings.SECRET_KEY if algorithm != "none" else None
        forged = jwt.encode(claims, key, algorithm=algorithm)
        assert bearer(forged).get("/auth/me").status_code == 401

    def test_signed_with_another_key_is_401(self, user):
        claims = dict(AccessToken.for_user(user).payload)
        forged = jwt.encode(claims, "not-the-secret-key-but-long-enough-for-hs256", "HS256")
        assert bearer(forged).get("/auth/me").status_code == 401

    def test_claims_edited_to_never_expire_are_401(self, user):
        token = AccessToken.for_user(user)
        token.set_exp(lifetime=-dt.timedelta(seconds=1))
        header, _, signature = str(token).split(".")
        claims = {**token.payload, "exp": 4_102_444_800}
        payload = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
        assert bearer(f"{header}.{payload}.{signature}").get("/auth/me").status_code == 401

    def test_a_refresh_token_is_not_an_access_token(self, api_client, user):
        tokens = sign_in(api_client, user)
        assert bearer(tokens["refresh"]).get("/auth/me").status_code == 401

    @pytest.mark.parametrize(
        "header",
        [
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearer \u00e9t\u00e9",
            "Basic Zm9vOmJhcg==",
            "Bearer " + "A" * 10_000,
        ],
    )
    def test_malformed_authorization_headers_are_401(self, api_client, header):
        api_client.credentials(HTTP_AUTHORIZATION=header)
        response = api_client.get("/auth/me")
        assert response.status_code == 401
        assert "detail" in response.json()

    def test_token_of_a_deleted_user_is_401(self, user):
        token = str(AccessToken.for_user(user))
        user.delete()
        assert bearer(token).get("/auth/me").status_code == 401

    def test_token_of_a_deactivated_user_is_401(self, user):
        token = str(AccessToken.for_user(user))
        user.is_active = False
        user.save()
        assert bearer(token).get("/auth/me").status_code == 401


class TestSession:
    def test_staff_signed_in_to_the_admin_can_use_the_browsable_api(self, client, staff):
        assert client.login(email=staff.email, password=TEST_PASSWORD)
        response = client.get("/users", HTTP_ACCEPT="text/html")
        assert response.status_code == 200
        assert b"<html" in response.content.lower()

    def test_session_writes_need_the_csrf_token(self, staff):
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        client.force_login(staff)
        response = client.post(
            "/users", {"name": "A", "email": "a@x.io"}, content_type="application/json"
        )
        assert response.status_code == 403


def failed_sign_ins_from_four_forwarded_addresses(client, user):
    """Statuses of four wrong-password sign-ins, each claiming another X-Forwarded-For."""
    return [
        client.post(
            "/auth/token",
            {"email": user.email, "password": "wrong-pass"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{i}",
        ).status_code
        for i in range(4)
    ]


class TestThrottling:
    @pytest.fixture
    def low_rates(self, settings):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"auth": "3/min", "user": "5/min"},
        }

    def test_sign_in_attempts_are_limited_per_address(self, api_client, user, low_rates):
        statuses = [
            api_client.post(
                "/auth/token", {"email": user.email, "password": "wrong-pass"}, format="json"
            ).status_code
            for _ in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
        limited = api_client.post(
            "/auth/token", {"email": user.email, "password": TEST_PASSWORD}, format="json"
        )
        assert limited.status_code == 429
        assert 1 <= int(limited["Retry-After"]) <= 60
        assert "detail" in limited.json()
        other_address = api_client.post(
            "/auth/token",
            {"email": user.email, "password": TEST_PASSWORD},
            format="json",
            REMOTE_ADDR="10.9.9.9",
        )
        assert other_address.status_code == 200

    def test_register_shares_the_sign_in_budget(self, api_client, low_rates):
        statuses = [
            api_client.post("/auth/register", {"name": "A"}, format="json").status_code
            for _ in range(4)
        ]
        assert statuses == [400, 400, 400, 429]

    def test_a_bearer_token_does_not_lift_the_sign_up_limit(self, api_client, user, low_rates):
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
        responses = [
            api_client.post(
                "/auth/register",
                {"name": "A", "email": f"new{i}@x.io", "password": STRONG_PASSWORD},
                format="json",
            )
            for i in range(4)
        ]
        assert [r.status_code for r in responses] == [201, 201, 201, 429]
        assert 1 <= int(responses[-1]["Retry-After"]) <= 60
        assert User.objects.filter(email__startswith="new").count() == 3

    @pytest.mark.parametrize(
        ("path", "body"),
        [
            ("/auth/token", {"email": "a@x.io", "password": "wrong-pass"}),
            ("/auth/token/refresh", {"refresh": "not.a.token"}),
        ],
    )
    def test_a_bearer_token_does_not_lift_the_sign_in_limit(
        self, api_client, user, low_rates, path, body
    ):
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
        statuses = [api_client.post(path, body, format="json").status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]

    def test_sign_up_ignores_credentials_even_broken_ones(self, api_client):
        api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
        response = api_client.post(
            "/auth/register",
            {"name": "A", "email": "a@x.io", "password": STRONG_PASSWORD},
            format="json",
        )
        assert response.status_code == 201

    def test_x_forwarded_for_is_ignored_unless_proxies_are_trusted(
        self, api_client, user, low_rates
    ):
        assert failed_sign_ins_from_four_forwarded_addresses(api_client, user)[-1] == 429

    def test_trusted_proxy_address_is_used_when_configured(
        self, api_client, user, low_rates, settings
    ):
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
        assert failed_sign_ins_from_four_forwarded_addresses(api_client, user) == [401] * 4

    @pytest.fixture
    def account_rate(self, settings):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"auth": "3/min", "user": "5/min", "account": "5/15min"},
        }

    @staticmethod
    def sign_in_from(client, address, email, password=WRONG_PASSWORD):
        return client.post(
            "/auth/token", {"email": email, "password": password}, REMOTE_ADDR=address
        )

    def test_failed_sign_ins_are_limited_per_account_from_any_address(
        self, api_client, user, staff, account_rate
    ):
        guesses = [self.sign_in_from(api_client, f"198.51.100.{i}", user.email) for i in range(20)]
        assert [r.status_code for r in guesses] == [401] * 5 + [429] * 15
        assert 1 <= int(guesses[-1]["Retry-After"]) <= 15 * 60
        # The trade-off: until the window ends the owner is refused too...
        owner = self.sign_in_from(api_client, "192.0.2.1", user.email, TEST_PASSWORD)
        assert owner.status_code == 429
        # ...and no other account is.
        other = self.sign_in_from(api_client, "198.51.100.1", staff.email, TEST_PASSWORD)
        assert other.status_code == 200

    def test_successful_sign_ins_do_not_count(self, api_client, user, account_rate):
        for i in range(8):
            ok = self.sign_in_from(api_client, f"198.51.100.{i}", user.email, TEST_PASSWORD)
            assert ok.status_code == 200
        statuses = [
            self.sign_in_from(api_client, f"203.0.113.{i}", user.email).status_code
            for i in range(6)
        ]
        assert statuses == [401] * 5 + [429]

    def test_letter_case_does_not_give_an_account_another_budget(
        self, api_client, user, account_rate
    ):
        spellings = [user.email, user.email.upper(), user.email.title(), f" {user.email} "]
        statuses = [
            self.sign_in_from(api_client, f"198.51.100.{i}", spellings[i % 4]).status_code
            for i in range(6)
        ]
        assert statuses[-1] == 429

    def test_the_spellings_of_an_international_domain_share_one_budget(
        self, api_client, account_rate
    ):
        UserFactory(email="ann@bücher.de")  # stored as ann@xn--bcher-kva.de
        spellings = [
            "ann@bücher.de",
            "ann@xn--bcher-kva.de",
            "ann@bu\u0308cher.de",
            "ANN@BÜCHER.DE",
        ]
        statuses = [
            self.sign_in_from(api_client, f"198.51.100.{i}", spellings[i % 4]).status_code
            for i in range(6)
        ]
        assert statuses == [401] * 5 + [429]

    def test_an_unknown_email_is_limited_exactly_like_a_real_one(
        self, api_client, user, account_rate
    ):
        def statuses(email):
            return [
                self.sign_in_from(api_client, f"198.51.100.{i}", email).status_code
                for i in range(7)
            ]

        assert statuses(user.email) == statuses("nobody-here@example.com") == [401] * 5 + [429] * 2

    def test_the_account_limit_is_not_enforced_while_the_cache_is_down(
        self, api_client, user, account_rate, private_redis
    ):
        private_redis.kill()
        statuses = [
            self.sign_in_from(api_client, f"198.51.100.{i}", user.email).status_code
            for i in range(7)
        ]
        assert statuses == [401] * 7
        owner = self.sign_in_from(api_client, "192.0.2.1", user.email, TEST_PASSWORD)
        assert owner.status_code == 200

    def test_signed_in_callers_are_limited_per_user(self, member_client, staff_client, low_rates):
        statuses = [member_client.get("/auth/me").status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        assert staff_client.get("/auth/me").status_code == 200


class TestAdminAccess:
    def test_anonymous_sees_only_the_login_page(self, client):
        assert client.get("/admin/login/").status_code == 200
        response = client.get("/admin/")
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")

    def test_a_member_cannot_sign_in_to_the_admin(self, client, user):
        response = client.post(
            "/admin/login/?next=/admin/", {"username": user.email, "password": TEST_PASSWORD}
        )
        assert response.status_code == 200  # the form again, with an error
        assert client.get("/admin/").status_code == 302

    def test_staff_can(self, client, staff):
        client.post(
            "/admin/login/?next=/admin/", {"username": staff.email, "password": TEST_PASSWORD}
        )
        assert client.get("/admin/").status_code == 200


# The lookalikes of alice@example.com, each a different string that the old
# rules stored as a new account (or, for the dotless ı, signed in as alice).
LOOKALIKES = {
    "Cyrillic а in the domain": "alice@exаmple.com",
    "its punycode form": "alice@xn--exmple-4nf.com",
    "full-width letter in the domain": "alice@exａmple.com",
    "full-width letter in the local part": "ａlice@example.com",
    "zero-width space in the domain": "alice@ex\u200bample.com",
    "zero-width space in the local part": "al\u200bice@example.com",
    "quoted local part": '"alice"@example.com',
    "dotless ı": "alıce@example.com",
}


class TestLookalikeEmails:
    """No lookalike of a stored email registers next to it or signs in as it."""

    @pytest.fixture
    def alice(self):
        return UserFactory(email="alice@example.com")

    @pytest.mark.parametrize("email", LOOKALIKES.values(), ids=LOOKALIKES.keys())
    def test_a_lookalike_is_refused_at_registration_and_never_signs_in(
        self, api_client, alice, email
    ):
        response = api_client.post(
            "/auth/register",
            {"name": "Mallory", "email": email, "password": STRONG_PASSWORD},
            format="json",
        )
        assert response.status_code == 400
        assert list(response.json()) == ["email"]
        assert User.objects.count() == 1
        sign_in = api_client.post(
            "/auth/token", {"email": email, "password": TEST_PASSWORD}, format="json"
        )
        assert sign_in.status_code == 401
        assert "access" not in sign_in.json()

    @pytest.mark.parametrize("email", LOOKALIKES.values(), ids=LOOKALIKES.keys())
    def test_staff_cannot_create_or_rename_to_a_lookalike_either(self, staff_client, alice, email):
        created = staff_client.post("/users", {"name": "M", "email": email}, format="json")
        assert created.status_code == 400
        assert list(created.json()) == ["email"]
        other = UserFactory()
        renamed = staff_client.patch(f"/users/{other.pk}", {"email": email}, format="json")
        assert renamed.status_code == 400
        assert User.objects.get(pk=other.pk).email == other.email

    def test_the_same_address_in_another_letter_case_is_the_same_account(self, api_client, alice):
        response = api_client.post(
            "/auth/register",
            {"name": "A", "email": "ALICE@Example.COM", "password": STRONG_PASSWORD},
            format="json",
        )
        assert response.json() == {"email": ["A user with this email already exists."]}
        sign_in = api_client.post(
            "/auth/token", {"email": "Alice@EXAMPLE.com", "password": TEST_PASSWORD}, format="json"
        )
        assert sign_in.status_code == 200

    def test_an_internationalised_domain_is_stored_as_idna_and_signs_in_either_way(
        self, api_client
    ):
        response = api_client.post(
            "/auth/register",
            {"name": "Jörg", "email": "Joerg@Bücher.de", "password": STRONG_PASSWORD},
            format="json",
        )
        assert response.status_code == 201
        assert response.json()["email"] == "joerg@xn--bcher-kva.de"
        for typed in ("joerg@bücher.de", "JOERG@XN--BCHER-KVA.DE"):
            sign_in = api_client.post(
                "/auth/token", {"email": typed, "password": STRONG_PASSWORD}, format="json"
            )
            assert sign_in.status_code == 200, typed

    def test_the_admin_login_refuses_a_lookalike(self, client):
        UserFactory(email="alice@example.com", is_staff=True)
        response = client.post(
            "/admin/login/?next=/admin/",
            {"username": "alıce@example.com", "password": TEST_PASSWORD},
        )
        assert response.status_code == 200  # the form again, with its error
        assert "_auth_user_id" not in client.session
