"""Input of the account endpoints, and the refresh serializer's revocation check.

Kept beside users.serializers rather than in it so that the account work merges as a
module of its own; the rules themselves live in users.accounts.
"""

from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from .accounts import check_not_revoked
from .models import User
from .user_fields import load_user_fields

_PASSWORD = {"max_length": 128, "trim_whitespace": False, "style": {"input_type": "password"}}


class PasswordChangeSerializer(serializers.Serializer):
    """The current password and the new one."""

    old_password = serializers.CharField(write_only=True, **_PASSWORD)
    new_password = serializers.CharField(write_only=True, **_PASSWORD)


class PasswordResetSerializer(serializers.Serializer):
    """The address to send a reset link to."""

    email = serializers.EmailField(max_length=254)

    def validate_email(self, value):
        return User.objects.normalize_email(value)


class PasswordResetConfirmSerializer(serializers.Serializer):
    """The uid and token of a reset link, and the new password."""

    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(write_only=True, **_PASSWORD)


class LogoutSerializer(serializers.Serializer):
    """The refresh token to blacklist."""

    refresh = serializers.CharField(max_length=4096)


class DetailSerializer(serializers.Serializer):
    """A message for the caller."""

    detail = serializers.CharField()


class RevocationCheckedTokenRefreshSerializer(TokenRefreshSerializer):
    """simplejwt's refresh, refusing a token issued before its user's revocation (401)."""

    def validate(self, attrs):
        token = self.token_class(attrs["refresh"])
        fields = load_user_fields(token.get(jwt_settings.USER_ID_CLAIM))
        if fields is not None:
            check_not_revoked(token, fields)
        return super().validate(attrs)
