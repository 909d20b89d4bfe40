"""Security headers: no caching of token responses, and each page's Content-Security-Policy.

That each page satisfies its policy is checked in a real browser (test_browser.py);
this checks which policy each response carries, in-process. test_serving.py checks
them through gunicorn.
"""

import pytest
from django.conf import settings
from django.utils.csp import build_policy

from conftest import bearer_client
from users.tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


class TestTokenResponses:
    def test_sign_in_and_refresh_are_never_stored(self, api_client, user):
        signed_in = api_client.post(
            "/auth/token", {"email": user.email, "password": TEST_PASSWORD}, format="json"
        )
        assert signed_in.status_code == 200
        assert no_store(signed_in)
        refreshed = api_client.post(
            "/auth/token/refresh", {"refresh": signed_in.json()["refresh"]}, format="json"
        )
        assert refreshed.status_code == 200
        assert no_store(refreshed)

    @pytest.mark.parametrize(
        ("path", "body"),
        [
            ("/auth/token", {"email": "ghost@x.io", "password": "whatever-1"}),
            ("/auth/token", {"email": "ghost@x.io"}),
            ("/auth/token/refresh", {"refresh": "not.a.token"}),
            ("/api/v1/auth/token/", {"email": "ghost@x.io", "password": "whatever-1"}),
        ],
    )
    def test_their_errors_are_not_stored_either(self, api_client, path, body):
        response = api_client.post(path, body, format="json")
        assert response.status_code in {400, 401}
        assert no_store(response)


def policy_of(response):
    return response["Content-Security-Policy"]


class TestContentSecurityPolicy:
    def test_the_admin_gets_the_site_policy(self, client, staff):
        assert policy_of(client.get("/admin/login/")) == build_policy(settings.SECURE_CSP)
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
        assert policy_of(client.get("/admin/users/user/")) == build_policy(settings.SECURE_CSP)

    def test_the_site_policy_allows_nothing_inline_or_from_elsewhere(self):
        policy = build_policy(settings.SECURE_CSP)
        assert "default-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "unsafe" not in policy
        assert "http" not in policy

    def test_json_answers_carry_the_site_policy(self, user):
        response = bearer_client(user).get("/users")  # the bearer-request shortcut
        assert response.status_code == 200
        assert policy_of(response) == build_policy(settings.SECURE_CSP)

    def test_the_browsable_api_gets_its_own_policy(self, client, staff):
        client.force_login(staff)
        response = client.get("/users", HTTP_ACCEPT="text/html")
        assert response.status_code == 200
        assert policy_of(response) == build_policy(settings.BROWSABLE_API_CSP)
        # The same URL as JSON keeps the site's.
        response = client.get("/users", HTTP_ACCEPT="application/json")
        assert policy_of(response) == build_policy(settings.SECURE_CSP)

    @pytest.mark.parametrize(
        ("path", "policy"), [("/docs", "SWAGGER_UI_CSP"), ("/redoc", "REDOC_CSP")]
    )
    def test_the_docs_pages_get_theirs(self, client, path, policy):
        response = client.get(path)
        assert response.status_code == 200
        assert policy_of(response) == build_policy(getattr(settings, policy))
        assert "<script>" not in response.content.decode()  # nothing inline to allow
        assert "fonts.googleapis" not in response.content.decode()

    def test_swagger_ui_does_not_persist_the_token(self):
        assert settings.SPECTACULAR_SETTINGS["SWAGGER_UI_SETTINGS"]["persistAuthorization"] is False
