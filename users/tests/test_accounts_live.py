"""The reset flow against a real gunicorn, its email written by the filemail backend.

The deployed path end to end: the request answers 202 at once, a worker's background
thread looks the address up and sends, the link in the email sets a new password, and
the tokens issued before it stop working.
"""

import email
import json
import statistics
import time
from email import policy
from urllib.parse import urlsplit

import pytest

from core.tests.figures import record
from core.tests.servers import Gunicorn, fetch, service_env

from .factories import UserFactory
from .test_accounts import earlier_tokens

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "violet-Otter-42-lamp"
ROUNDS = 10


def post(base, path, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    status, _, content = fetch(f"{base}{path}", headers, json.dumps(body).encode(), "POST")
    return status, json.loads(content) if content else None


def read_emails(directory, expected, timeout=15.0):
    """The emails the filemail backend wrote, parsed, once `expected` are there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rules = sum(p.read_bytes().count(b"-" * 79) for p in directory.glob("*.log"))
        if rules >= expected:
            break
        time.sleep(0.1)
    messages = []
    # Sends within one second may share a file, each message followed by a rule.
    for path in sorted(directory.glob("*.log")):
        for raw in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if raw.strip():
                messages.append(email.message_from_bytes(raw, policy=policy.default))
    return messages


def test_reset_through_gunicorn_from_the_email_to_a_new_sign_in(tmp_path, settings):
    outbox = tmp_path / "mail"
    outbox.mkdir()
    user = UserFactory()
    env = service_env(
        EMAIL_URL=f"filemail://{outbox}",
        FRONTEND_RESET_URL="http://localhost:3000/reset/{uid}/{token}",
        API_THROTTLE_AUTH="1000/min",
        API_THROTTLE_ACCOUNT_RECOVERY="1000/hour",
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
    )
    with Gunicorn(env, tmp_path / "gunicorn.log") as server:
        # The test's hasher is not the server's: tokens are minted here, with the
        # server's key, and issued a few seconds before the reset.
        access, refresh = earlier_tokens(user)
        assert fetch(f"{server.base}/auth/me", {"Authorization": f"Bearer {access}"})[0] == 200

        # Same answer, about the same time, for a known and an unknown address.
        timings = {"known": [], "unknown": []}
        for _ in range(ROUNDS):
            for label, address in (("known", user.email), ("unknown", "nobody@example.com")):
                started = time.perf_counter()
                status, body = post(server.base, "/auth/password/reset", {"email": address})
                timings[label].append((time.perf_counter() - started) * 1000)
                assert status == 202
                assert body == {
                    "detail": "If an active account uses this address, a reset link is on its way."
                }
        medians = {label: round(statistics.median(ms), 2) for label, ms in timings.items()}
        record("reset_timing_ms", **{f"{k}_median": v for k, v in medians.items()})
        print(f"\nlive reset request, median ms: {medians}")

        messages = read_emails(outbox, expected=ROUNDS)
        assert len(messages) == ROUNDS
        assert {m["To"] for m in messages} == {user.email}
        text = messages[-1].get_body(preferencelist=("plain",)).get_content()
        link = next(word for word in text.split() if word.startswith("http://localhost:3000/"))
        _, _, uid, token = urlsplit(link).path.split("/")
        html = messages[-1].get_body(preferencelist=("html",)).get_content()
        assert link in html.replace("&amp;", "&")

        status, _ = post(
            server.base,
            "/auth/password/reset/confirm",
            {"uid": uid, "token": token, "new_password": NEW_PASSWORD},
        )
        assert status == 204
        assert (
            post(
                server.base,
                "/auth/password/reset/confirm",
                {"uid": uid, "token": token, "new_password": "other-Otter-43"},
            )[0]
            == 400
        )

        status, _, _ = fetch(f"{server.base}/auth/me", {"Authorization": f"Bearer {access}"})
        assert status == 401
        assert post(server.base, "/auth/token/refresh", {"refresh": refresh})[0] == 401
        status, fresh = post(
            server.base, "/auth/token", {"email": user.email, "password": NEW_PASSWORD}
        )
        assert status == 200
        status, _, me = fetch(
            f"{server.base}/auth/me", {"Authorization": f"Bearer {fresh['access']}"}
        )
        assert status == 200
        assert json.loads(me)["email"] == user.email
