"""Account services: change and reset a password, sign out, and revoke a user's tokens.

Revocation has two halves. Refresh tokens are blacklisted where there is a record of
them (simplejwt's blacklist app). Beyond that, every token carries its issue time
(`iat`), and each user has `tokens_valid_after`, which User.save() moves on a password
change or a deactivation (from the API, the admin or the ORM alike) and
`revoke_tokens()` moves on "sign out everywhere": a token issued before it is refused,
an access token by the authentication class, a refresh token by the refresh serializer,
both through `check_not_revoked()`.
"""

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken, TokenError

from core import cache as api_cache

from . import emails
from .models import User

WRONG_PASSWORD = _("Your old password was entered incorrectly.")
BAD_RESET_LINK = _("This password reset link is invalid, used or expired.")
BAD_UID = _("This is not the uid of a password reset link.")
BAD_REFRESH = _("Token is invalid or expired.")
_MAX_PK = 2**63 - 1


def check_not_revoked(token, user_fields: dict) -> None:
    """Refuse (401) a token issued before the user's `tokens_valid_after`.

    `iat` counts whole seconds, so the comparison is with the whole second the
    revocation fell in: a token issued in that same second is accepted, because it may
    have been issued just after (a sign-in right after a password reset must work).
    The price is that one issued in that second just before the change survives too; a
    sub-second claim of our own would close that window, at the cost of a custom token.
    """
    valid_after = user_fields.get("tokens_valid_after")
    if valid_after is None:
        return
    try:
        issued_at = int(token["iat"])
    except (KeyError, TypeError, ValueError):
        issued_at = None
    if issued_at is None or issued_at < int(valid_after.timestamp()):
        raise AuthenticationFailed(_("Token has been revoked."), code="token_revoked")


def revoke_tokens(user_ids) -> None:
    """Sign users out everywhere: every token issued until now stops working.

    Their outstanding refresh tokens are blacklisted, `tokens_valid_after` moves to now
    (for access tokens, and refresh tokens the blacklist has no record of), and their
    cached fields are dropped when the transaction commits.
    """
    user_ids = list(user_ids)
    now = timezone.now()
    with transaction.atomic():
        # update() sends no signals: the cache is invalidated explicitly below.
        User.objects.filter(pk__in=user_ids).update(tokens_valid_after=now)
        outstanding = OutstandingToken.objects.filter(
            user_id__in=user_ids, expires_at__gt=now, blacklistedtoken__isnull=True
        )
        BlacklistedToken.objects.bulk_create(
            [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
        )
        api_cache.invalidate_on_commit(*map(api_cache.user_family, user_ids))


def _password_errors(password: str, user: User) -> list[str]:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        return list(exc.messages)
    return []


def _validated_password(password: str, user: User, field: str) -> str:
    if errors := _password_errors(password, user):
        raise ValidationError({field: errors})
    return password


def password_change(user_id: int, old_password: str, new_password: str) -> None:
    """Change a signed-in user's password; tokens issued before it stop working."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id)
        errors = {}
        if not user.check_password(old_password):
            errors["old_password"] = [WRONG_PASSWORD]
        if new_errors := _password_errors(new_password, user):
            errors["new_password"] = new_errors
        if errors:
            raise ValidationError(errors)
        user.set_password(new_password)
        user.save(update_fields=["password"])


def password_reset_request(email: str) -> None:
    """Email a reset link if `email` is an active account's; the caller never knows.

    The lookup and the send both happen after the request (users.emails), so the
    answer takes the same time for an unknown address as for a known one.
    """
    emails.run_after_commit(send_password_reset, email)


def reset_link(user: User) -> str:
    """The frontend's reset page for `user`, with a fresh single-use token."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.FRONTEND_RESET_URL.format(uid=uid, token=token)


def send_password_reset(email: str) -> None:
    """Send the reset email to the active account with this address, if there is one."""
    # As Django's PasswordResetForm: active users with a usable password only.
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    emails.send_password_reset(user, reset_link(user))


def user_pk_from_uid(uid: str) -> int | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    return pk if 0 < pk <= _MAX_PK else None


def password_reset_confirm(uid: str, token: str, new_password: str) -> None:
    """Set a new password with a reset link's uid and token (Django's token generator).

    The token is bound to the password hash and last sign-in, so it works once; the
    row is locked first so that two uses of one link cannot both pass the check.
    """
    pk = user_pk_from_uid(uid)
    if pk is None:
        # Malformed, so not from a link of ours; whether an account exists stays unsaid.
        raise ValidationError({"uid": [BAD_UID]})
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=pk, is_active=True).first()
        if user is None or not default_token_generator.check_token(user, token):
            raise ValidationError({"token": [BAD_RESET_LINK]})
        user.set_password(_validated_password(new_password, user, "new_password"))
        user.save(update_fields=["password"])


def logout(user_id: int, refresh: str) -> None:
    """Blacklist one of the caller's refresh tokens (signing out one device)."""
    try:
        token = RefreshToken(refresh)
    except TokenError:
        raise ValidationError({"refresh": [BAD_REFRESH]}) from None
    if str(token.get(jwt_settings.USER_ID_CLAIM)) != str(user_id):
        raise ValidationError({"refresh": [BAD_REFRESH]})
    token.blacklist()
