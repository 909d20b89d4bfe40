"""The app's emails: rendered from templates, sent after commit, off the request thread.

Every email goes through Django's configured backend (EMAIL_URL in the settings). A
send is handed to a one-thread executor once the transaction commits, so the request
that asked for it answers in the same time whether or not an email goes out, and a
mail server that is slow or down costs the request nothing: the failure is logged.
"""

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connections, transaction
from django.template.loader import render_to_string

logger = logging.getLogger("users.emails")

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_executor_pid: int | None = None


def _background() -> ThreadPoolExecutor:
    """This process's executor (created lazily: one made before a fork has no thread)."""
    global _executor, _executor_pid
    with _lock:
        if _executor is None or _executor_pid != os.getpid():
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="emails")
            _executor_pid = os.getpid()
        return _executor


def _run(task, args, in_background: bool) -> None:
    try:
        task(*args)
    except Exception:
        # Never the link or the address: the log is read by more people than the inbox.
        logger.exception("email task %s failed", task.__name__)
    finally:
        if in_background:
            # The executor's thread holds its own database connection: give it back.
            connections.close_all()


def run_after_commit(task, *args):
    """Run `task(*args)` once the current transaction commits, in the background.

    EMAIL_IN_BACKGROUND=False runs it in the committing thread instead (the test
    settings do, so a test's uncommitted rows are visible to it). Either way a failing
    task is logged, never raised.
    """
    in_background = settings.EMAIL_IN_BACKGROUND

    def submit():
        if in_background:
            _background().submit(_run, task, args, True)
        else:
            _run(task, args, False)

    transaction.on_commit(submit)


def wait_for_background_tasks(timeout: float = 10.0) -> None:
    """Block until the tasks submitted so far have run (tests, a graceful shutdown)."""
    _background().submit(lambda: None).result(timeout=timeout)


def send_password_reset(user, link: str) -> None:
    """Email `user` a password reset link, as plain text and HTML."""
    context = {"user": user, "link": link, "timeout_hours": settings.PASSWORD_RESET_TIMEOUT / 3600}
    message = EmailMultiAlternatives(
        subject="Reset your password",
        body=render_to_string("users/emails/password_reset.txt", context),
        to=[user.email],
    )
    message.attach_alternative(
        render_to_string("users/emails/password_reset.html", context), "text/html"
    )
    message.send()
