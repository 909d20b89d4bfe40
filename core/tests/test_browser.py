"""A real browser (Debian's Chromium, driven by Playwright) against the live server.

Staff sign in to the admin and add a user and a post (the post's author through the
autocomplete widget); the API lists show both at once. Then /docs renders Swagger UI
from local files only, and "Try it out" on GET /users succeeds with a bearer token.
Then a member resets a forgotten password from /docs and the email the filemail
backend wrote, and signs in with the new one. Screenshots go to artifacts/. Needs
/usr/bin/chromium (CHROMIUM to point elsewhere).
"""

import email
import email.policy
import json
import os
import shutil
import urllib.request
from urllib.parse import urlsplit

import pytest
from django.db import connections
from playwright.sync_api import expect, sync_playwright

from users.models import User
from users.tests.factories import TEST_PASSWORD, UserFactory

from .figures import ARTIFACTS, record

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
]
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # Skipped on a developer's machine without Chromium; in CI (.ci/run installs it)
    # a missing browser fails the test instead of hiding it.
    pytest.mark.skipif(
        not shutil.which(CHROMIUM) and not os.environ.get("CI"),
        reason=f"{CHROMIUM} is not installed (apt install chromium)",
    ),
]


# Reports every Content-Security-Policy violation of every document the page loads.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation([event.effectiveDirective, event.blockedURI, event.sourceFile,
                             event.lineNumber, event.sample].join(" | "));
});
"""


class BrowserPage:
    """A page and what it did: requests made, requests refused, CSP violations."""

    def __init__(self, page):
        self.page = page
        self.requested, self.refused, self.csp_violations = [], [], []
        self.expected_blocked = set()

    def unexpected_csp_violations(self):
        return [
            text
            for text in self.csp_violations
            if not any(url in text for url in self.expected_blocked)
        ]

    def __iter__(self):  # page, requested, refused = browser_page
        return iter((self.page, self.requested, self.refused))

    def goto_with_csp(self, url):
        """Open `url`, check it declares a Content-Security-Policy, and return the page."""
        response = self.page.goto(url)
        assert response.status == 200, url
        assert "default-src 'self'" in response.headers["content-security-policy"], url
        return self.page


@pytest.fixture
def browser_page(monkeypatch):
    """A fresh page whose every request is recorded, and refused unless on loopback.

    Every Content-Security-Policy violation (an event in the page, or Chromium's
    "Refused to …" console message) is recorded too, and fails the test.
    """
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test
    # makes between browser steps are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(exist_ok=True)
    recorded = None

    def only_loopback(route):
        url = route.request.url
        recorded.requested.append(url)
        scheme = urlsplit(url).scheme
        if scheme in {"data", "blob"} or urlsplit(url).hostname in LOOPBACK:
            route.continue_()
        else:
            recorded.refused.append(url)
            route.abort()

    def console_message(message):
        if "Content Security Policy" in message.text:
            recorded.csp_violations.append(message.text)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.route("**/*", only_loopback)
        context.expose_function(
            "reportCspViolation", lambda text: recorded.csp_violations.append(text)
        )
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("console", console_message)
        recorded = BrowserPage(page)
        yield recorded
        context.close()
        browser.close()
        # Inside Playwright's event loop the ORM used a connection of its own context,
        # which pytest-django does not know about: close it, or it outlives the test DB.
        connections.close_all()
    record("browser", page_requests=len(recorded.requested))
    unexpected = recorded.unexpected_csp_violations()
    assert unexpected == [], "\n".join(unexpected)


def api_get(base, path, token):
    request = urllib.request.Request(  # noqa: S310 - the live server on loopback
        f"{base}{path}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.headers.get("X-Cache"), json.loads(response.read())


def sign_in_api(base, user):
    request = urllib.request.Request(  # noqa: S310
        f"{base}/auth/token",
        data=json.dumps({"email": user.email, "password": TEST_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())["access"]


def test_staff_add_a_user_and_a_post_in_the_admin_and_the_api_shows_them_at_once(
    live_server, browser_page
):
    page, requested, refused = browser_page
    staff = UserFactory(is_staff=True, is_superuser=True, name="Browser staff")
    author = UserFactory(name="Autocomplete Author", email="author-pick@example.com")
    token = sign_in_api(live_server.url, staff)
    # Warm the cache: the lists must still change the moment the admin saves.
    for path in ("/users?limit=100", "/posts?limit=100"):
        api_get(live_server.url, path, token)
        assert api_get(live_server.url, path, token)[0] == "HIT"

    browser_page.goto_with_csp(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", staff.email)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()
    expect(page.locator("#user-tools")).to_contain_text(staff.email)

    browser_page.goto_with_csp(f"{live_server.url}/admin/users/user/add/")
    page.fill("#id_email", "made-in-browser@example.com")
    page.fill("#id_name", "Made In Browser")
    page.check("input[name=usable_password][value=true]")
    page.fill("#id_password1", "violet-Otter-42-lamp")
    page.fill("#id_password2", "violet-Otter-42-lamp")
    page.screenshot(path=ARTIFACTS / "admin-add-user.png", full_page=True)
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    new_user = User.objects.get(email="made-in-browser@example.com")

    browser_page.goto_with_csp(f"{live_server.url}/admin/posts/post/add/")
    page.fill("#id_title", "Written in a real browser")
    page.fill("#id_content", "Through the admin, with the autocomplete widget.")
    # The author is a select2 autocomplete backed by the admin's search, never a
    # <select> of every user: open it, type, pick the match.
    page.click("#id_user + .select2 .select2-selection")
    page.fill(".select2-search__field", "author-pick")
    option = page.locator(".select2-results__option", has_text="author-pick@example.com")
    expect(option).to_be_visible()
    option.click()
    page.screenshot(path=ARTIFACTS / "admin-add-post.png", full_page=True)
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")

    _, users = api_get(live_server.url, "/users?limit=100", token)
    assert {"id": new_user.pk, "name": "Made In Browser"}.items() <= next(
        u for u in users["results"] if u["id"] == new_user.pk
    ).items()
    _, posts = api_get(live_server.url, "/posts?limit=100", token)
    made = [p for p in posts["results"] if p["title"] == "Written in a real browser"]
    assert len(made) == 1
    assert made[0]["user_id"] == author.pk
    # The browsable API, with the admin's session.
    browser_page.goto_with_csp(f"{live_server.url}/users?limit=5")
    expect(page.locator(".response-info")).to_contain_text("Made In Browser")
    page.screenshot(path=ARTIFACTS / "browsable-api.png", full_page=True)
    assert refused == []
    assert {urlsplit(url).hostname for url in requested} <= LOOPBACK


def test_docs_render_from_local_assets_and_try_it_out_succeeds_with_a_token(
    live_server, browser_page
):
    page, requested, refused = browser_page
    member = UserFactory(name="Docs reader")
    token = sign_in_api(live_server.url, member)

    browser_page.goto_with_csp(f"{live_server.url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Users & Posts API")

    page.click(".swagger-ui .auth-wrapper .authorize")
    dialog = page.locator(".dialog-ux .modal-ux")
    bearer = dialog.locator(".auth-container", has_text="jwtAuth")
    bearer.locator("#auth-bearer-value").fill(token)
    bearer.locator("button.authorize").click()
    expect(bearer).to_contain_text("Authorized")
    dialog.locator("button.close-modal").click()
    # The token lives in the page's memory only: nothing another script on this origin,
    # or the next person at this browser, could read back.
    stored = page.evaluate("JSON.stringify({...localStorage, ...sessionStorage})")
    assert token not in stored
    assert "authorized" not in json.loads(stored)

    operation = page.locator("#operations-api-api_v1_users_list")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status").first
    expect(status).to_have_text("200", timeout=20_000)
    body = operation.locator(".live-responses-table .response-col_description pre").first
    expect(body).to_contain_text("Docs reader")
    page.screenshot(path=ARTIFACTS / "docs-try-it-out.png", full_page=True)

    assert refused == [], refused
    assert {urlsplit(url).hostname for url in requested} <= LOOPBACK
    assert any("/static/drf_spectacular_sidecar/swagger-ui-dist/" in url for url in requested)
    assert any(url.startswith(f"{live_server.url}/api/v1/users") for url in requested)


def try_it_out(page, operation_id, body, expected_status):
    """Run one operation from Swagger UI with a JSON body; its response body."""
    operation = page.locator(f"#operations-api-{operation_id}")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("textarea.body-param__text").fill(json.dumps(body))
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status").first
    expect(status).to_have_text(expected_status, timeout=20_000)
    return operation.locator(".live-responses-table .response-col_description pre").first


def test_a_password_reset_from_the_email_to_a_new_sign_in(
    live_server, browser_page, settings, tmp_path
):
    """Ask for a reset in /docs, open the email the filemail backend wrote, follow its
    link's uid and token back into /docs, and sign in with the new password."""
    page, requested, refused = browser_page
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(tmp_path)},
        }
    }
    settings.FRONTEND_RESET_URL = "http://localhost:3000/reset-password/{uid}/{token}"
    member = UserFactory(name="Forgetful member")
    new_password = "violet-Otter-42-lamp"

    page.goto(f"{live_server.url}/docs")
    try_it_out(page, "api_v1_auth_password_reset_create", {"email": member.email}, "202")

    (written,) = tmp_path.glob("*.log")
    message = email.message_from_bytes(
        written.read_bytes().split(b"\n" + b"-" * 79 + b"\n")[0], policy=email.policy.default
    )
    assert message["To"] == member.email
    # The HTML part, as a mail client shows it: its link is what the user follows.
    inbox = page.context.new_page()
    inbox.set_content(message.get_body(preferencelist=("html",)).get_content())
    link = inbox.get_by_role("link", name="Reset your password").get_attribute("href")
    inbox.screenshot(path=ARTIFACTS / "reset-email.png")
    inbox.close()
    _, uid, token = urlsplit(link).path.strip("/").split("/")

    page.reload()
    try_it_out(
        page,
        "api_v1_auth_password_reset_confirm_create",
        {"uid": uid, "token": token, "new_password": new_password},
        "204",
    )
    signed_in = try_it_out(
        page,
        "api_v1_auth_token_create",
        {"email": member.email, "password": new_password},
        "200",
    )
    expect(signed_in).to_contain_text("refresh")
    page.screenshot(path=ARTIFACTS / "docs-reset-flow.png", full_page=True)
    member.refresh_from_db()
    assert member.check_password(new_password)
    assert refused == [], refused


def test_redoc_renders_from_local_assets_within_its_policy(live_server, browser_page):
    page, requested, refused = browser_page
    # ReDoc's bundle shows Redocly's logo from its CDN, whatever the options: the policy
    # blocks exactly that, and the page works without it.
    redocly_logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    browser_page.expected_blocked.add(redocly_logo)
    browser_page.goto_with_csp(f"{live_server.url}/redoc")
    expect(page.locator("h1")).to_contain_text("Users & Posts API", timeout=20_000)
    expect(page.locator("body")).to_contain_text("/api/v1/users/search")
    assert all(redocly_logo in text for text in browser_page.csp_violations)
    page.screenshot(path=ARTIFACTS / "redoc.png", full_page=True)
    assert refused == [], refused
    assert {urlsplit(url).hostname for url in requested} <= LOOPBACK
