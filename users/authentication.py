"""Bearer-token authentication that costs no database query per request."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from config import cache as api_cache

from .models import User

# What requests need of the signed-in user. Not the password hash: it stays in the
# database, and the cached user is never saved back.
CACHED_FIELDS = ("id", "name", "email", "created_at", "is_staff", "is_superuser", "is_active")


def _load_fields(user_id):
    return User.objects.filter(pk=user_id).values(*CACHED_FIELDS).first()


class CachedUserJWTAuthentication(JWTAuthentication):
    """simplejwt's JWTAuthentication, with the user read from the cache.

    The token is verified exactly as simplejwt does it. The user behind it comes from
    the cache (kept current by the user model's signals, see users.signals), so a
    deactivated, demoted or deleted user loses access on the next request, as with
    the stock class, without a database query on every request.
    """

    def get_user(self, validated_token):
        try:
            user_id = int(validated_token[jwt_settings.USER_ID_CLAIM])
        except (KeyError, TypeError, ValueError):
            raise InvalidToken(_("Token contained no recognizable user identification")) from None
        fields = api_cache.cached_user_fields(user_id, lambda: _load_fields(user_id))
        if fields is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        user = User(**fields)
        user._state.adding = False
        user._state.db = "default"
        if not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        return user


class CachedUserJWTScheme(SimpleJWTScheme):
    """Document CachedUserJWTAuthentication as the bearer scheme simplejwt's is."""

    target_class = CachedUserJWTAuthentication
