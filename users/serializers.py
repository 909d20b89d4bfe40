"""Representation and input validation of users; writes go through users.services."""

from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from . import services
from .models import User

DUPLICATE_EMAIL = "A user with this email already exists."


class UserSerializer(serializers.ModelSerializer):
    """A user as the API shows it: never a password or its hash."""

    email = serializers.EmailField(
        max_length=254,
        # A friendly early answer; the database constraint still decides under races.
        validators=[
            UniqueValidator(queryset=User.objects.all(), lookup="iexact", message=DUPLICATE_EMAIL)
        ],
    )

    class Meta:
        model = User
        fields = ["id", "name", "email", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_email(self, value):
        return User.objects.normalize_email(value)

    def create(self, validated_data):
        return services.user_create(**validated_data)

    def update(self, instance, validated_data):
        return services.user_update(instance, **validated_data)
