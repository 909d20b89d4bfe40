"""Input of the account endpoints, and the refresh serializer's revocation check.

Kept beside users.serializers rather than in it so that the account work merges as a
module of its own; the rules themselves live in users.accounts.
"""

from rest_framework import serializers

from .models import User

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
