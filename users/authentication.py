"""Bearer-token authentication that costs no database query per request."""

import threading
from collections import OrderedDict

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import TokenError
from rest_framework_simplejwt.utils import aware_utcnow

from .accounts import check_not_revoked
from .models import CachedUser
from .user_fields import cached_user_fields


class VerifiedTokens:
    """The tokens whose signature this process has checked, most recent first, bounded.

    A client sends the same access token on every request until it expires, and
    checking its signature and claims is a sixth of a cached page's time. A token's
    verdict depends only on its bytes, the signing key and the clock, so a token found
    here is only checked against the clock again; one not found (a new or a changed
    token, a single altered byte) is verified in full.
    """

    def __init__(self, size: int):
        self.size = size
        self._tokens: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, raw_token: bytes):
        """The verified token for these bytes if it has not expired since, else None."""
        with self._lock:
            token = self._tokens.get(raw_token)
            if token is None:
                return None
            self._tokens.move_to_end(raw_token)
        try:
            token.check_exp(current_time=aware_utcnow())
        except TokenError:
            with self._lock:
                self._tokens.pop(raw_token, None)
            return None
        return token

    def add(self, raw_token: bytes, token) -> None:
        with self._lock:
            self._tokens[raw_token] = token
            while len(self._tokens) > self.size:
                self._tokens.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


# About 1 KB per entry: a few MB per worker at most.
verified_tokens = VerifiedTokens(size=4096)


class CachedUserJWTAuthentication(JWTAuthentication):
    """simplejwt's JWTAuthentication, with the user read from the cache.

    The token is verified exactly as simplejwt does it. The user behind it comes from
    the cache (users.user_fields): a deactivated, demoted or deleted user loses access
    on the next request while Redis works, as with the stock class, and within
    USER_FIELDS_MAX_AGE (at most 30 s) whatever happens to Redis, without a database
    query on every request. It is a read-only CachedUser: it cannot be saved back.
    """

    def get_validated_token(self, raw_token):
        """simplejwt's verification, done once per token and process (VerifiedTokens)."""
        token = verified_tokens.get(raw_token)
        if token is None:
            token = super().get_validated_token(raw_token)
            # A token class that can be blacklisted (simplejwt's sliding tokens) must be
            # checked each time; access tokens, the only class configured, cannot.
            if not hasattr(token, "check_blacklist"):
                verified_tokens.add(raw_token, token)
        return token

    @staticmethod
    def _user_id(validated_token) -> int:
        try:
            return int(validated_token[jwt_settings.USER_ID_CLAIM])
        except (KeyError, TypeError, ValueError):
            raise InvalidToken(_("Token contained no recognizable user identification")) from None

    def get_user(self, validated_token):
        user_id = self._user_id(validated_token)
        fields = cached_user_fields(user_id)
        if fields is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        user = CachedUser.from_fields(fields)
        if not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        check_not_revoked(validated_token, fields)
        return user


class CachedUserJWTScheme(SimpleJWTScheme):
    """Document CachedUserJWTAuthentication as the bearer scheme simplejwt's is."""

    target_class = CachedUserJWTAuthentication
