"""The per-account limit on signing in, shared by `/auth/token` and the admin's login.

Per address, every attempt counts (core.throttling.AuthEndpointThrottle). Per account,
only failed attempts do, from any address: `API_THROTTLE_ACCOUNT` (10 per 15 minutes
by default). An unknown email is counted exactly like a real one, so the limit tells
nothing about which accounts exist.
"""

from core.throttling import Attempt, FailedAttemptsThrottle

failed_sign_ins = FailedAttemptsThrottle("account")


def account_key(email: str) -> str:
    """Every spelling that signs in to one account maps to one key.

    Sign-in matches emails in any letter case (UPPER(email) in PostgreSQL); casefolding
    is at least as broad, so no case variant gets a budget of its own.
    """
    return str(email).strip().casefold()


def sign_in_attempt(email: str) -> Attempt:
    """Count one sign-in attempt for this email; call `.succeeded()` if it signs in."""
    return failed_sign_ins.attempt(account_key(email))
