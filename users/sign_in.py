"""The per-account limit on signing in, shared by `/auth/token` and the admin's login.

Per address, every attempt counts (core.throttling.AuthEndpointThrottle). Per account,
only failed attempts do, from any address: `API_THROTTLE_ACCOUNT` (10 per 15 minutes
by default). An unknown email is counted exactly like a real one, so the limit tells
nothing about which accounts exist.
"""

from django.core.exceptions import ValidationError

from core.throttling import Attempt, FailedAttemptsThrottle

from .managers import normalize_email

failed_sign_ins = FailedAttemptsThrottle("account")


def account_key(email: str) -> str:
    """Every spelling that signs in to one account maps to one key.

    Sign-in compares the typed address in its stored form (users.managers.
    normalize_email), so the key is that form: letter case, a Unicode or punycode
    domain, NFC or NFD all share one budget. A form the rule refuses signs in to no
    one; it is keyed as typed, casefolded.
    """
    try:
        return normalize_email(str(email).strip())
    except ValidationError:
        return str(email).strip().casefold()


def sign_in_attempt(email: str) -> Attempt:
    """Count one sign-in attempt for this email; call `.succeeded()` if it signs in."""
    return failed_sign_ins.attempt(account_key(email))
