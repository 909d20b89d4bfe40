"""Rate limits of the account endpoints: per client address and per account.

Written with the project's FixedWindowRateThrottle (core.throttling). Per account means
per normalised email for a reset request, per uid for a reset confirmation and per
user for a password change, so spreading guesses over many addresses does not help.
"""

import hashlib

from core.throttling import FixedWindowRateThrottle


class AccountThrottle(FixedWindowRateThrottle):
    """Attempts on one account, named by the view's `throttle_account(request)`."""

    scope = "account_recovery"

    def get_cache_key(self, request, view):
        account = view.throttle_account(request)
        if account is None or account == "":
            return None
        # Bounded, printable keys whatever the client sent.
        return hashlib.sha256(str(account).encode("utf-8", "replace")).hexdigest()[:32]


def body_field(request, name: str):
    """A string field of the request's JSON object, else None (validation says why)."""
    data = request.data
    value = data.get(name) if isinstance(data, dict) else None
    return value if isinstance(value, str) else None
