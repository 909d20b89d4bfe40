"""Representation and input validation of users; writes go through users.services."""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.contrib.rest_framework_simplejwt import (
    TokenObtainPairSerializerExtension,
    TokenRefreshSerializerExtension,
)
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import exceptions, serializers
from rest_framework.exceptions import Throttled
from rest_framework.validators import UniqueValidator
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import (
    TokenObtainPairSerializer,
    TokenRefreshSerializer,
)
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from . import services
from .accounts import check_not_revoked
from .models import User
from .permissions import may_see_email
from .sign_in import sign_in_attempt
from .tokens import SingleUseRefreshToken
from .user_fields import load_user_fields

DUPLICATE_EMAIL = "A user with this email already exists."


class NormalizedEmailField(serializers.EmailField):
    """An email in its stored form (users.managers.normalize_email), before the field's
    validators run: the uniqueness check then compares what will be stored."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return User.objects.normalize_email(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(list(exc.messages)) from None


class UserSerializer(serializers.ModelSerializer):
    """A user as the API shows it: never a password or its hash.

    `is_staff` and `is_superuser` are not fields, so no API call can grant them.
    `email` is shown to staff and to the user themselves only (users.permissions): per
    user by default, or for a whole response when the context says `show_emails`, as
    a cached list shared by every member must.
    """

    email = NormalizedEmailField(
        max_length=254,
        help_text="Stored lower-case, the domain in its IDNA form; lookalike characters are "
        "refused. In responses, shown only to staff and to the user themselves.",
        # A friendly early answer; the database constraint still decides under races.
        validators=[
            UniqueValidator(queryset=User.objects.all(), lookup="iexact", message=DUPLICATE_EMAIL)
        ],
    )
    # core.schema documents these as optional in responses, whatever they are on input.
    optional_in_response = ("email",)

    class Meta:
        model = User
        fields = ["id", "name", "email", "created_at"]
        read_only_fields = ["id", "created_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self._shows_email_of(instance):
            del data["email"]
        return data

    def _shows_email_of(self, instance) -> bool:
        if "show_emails" in self.context:
            return self.context["show_emails"]
        request = self.context.get("request")
        return request is not None and may_see_email(request.user, instance.pk)

    def create(self, validated_data):
        return services.user_create(**validated_data)

    def update(self, instance, validated_data):
        return services.user_update(instance, **validated_data)


class UserCreateSerializer(UserSerializer):
    """A new user, optionally with a password; without one the account cannot sign in."""

    password = serializers.CharField(
        write_only=True, required=False, max_length=128, style={"input_type": "password"}
    )

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "password"]

    def validate(self, attrs):
        password = attrs.get("password")
        if password is not None:
            candidate = User(name=attrs.get("name", ""), email=attrs.get("email", ""))
            try:
                password_validation.validate_password(password, user=candidate)
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"password": list(exc.messages)}) from None
        return attrs


class RegisterSerializer(UserCreateSerializer):
    """Self sign-up: the password is required and Django's validators apply."""

    password = serializers.CharField(
        write_only=True, required=True, max_length=128, style={"input_type": "password"}
    )


class UserStatsSerializer(serializers.Serializer):
    """The figures of `/users/stats`."""

    total_users = serializers.IntegerField()
    users_last_7_days = serializers.IntegerField()


@extend_schema_serializer(component_name="TokenObtainPair")
class SignInSerializer(TokenObtainPairSerializer):
    """Email and password for a pair of tokens."""

    def validate(self, attrs):
        # Past the account's limit of failed attempts the password is not even checked:
        # 429, as for the per-address limit, and the same for an unknown email.
        attempt = sign_in_attempt(attrs[self.username_field])
        if not attempt.allowed:
            raise Throttled(wait=attempt.verdict.wait)
        data = super().validate(attrs)
        attempt.succeeded()
        return data


class SignInSerializerSchema(TokenObtainPairSerializerExtension):
    """Document SignInSerializer exactly as drf-spectacular documents simplejwt's."""

    target_class = SignInSerializer


# The schema keeps simplejwt's component name: clients generated from it stay the same.
@extend_schema_serializer(component_name="TokenRefresh")
class RefreshTokenRotationSerializer(TokenRefreshSerializer):
    """A refresh token traded for a new pair; each refresh token can be used once.

    A deleted or deactivated user's token is a 401 like any other dead token, and so is
    one issued before its user's tokens were revoked (users.accounts).
    """

    token_class = SingleUseRefreshToken

    def validate(self, attrs):
        token = self.token_class(attrs["refresh"])
        fields = load_user_fields(token.get(jwt_settings.USER_ID_CLAIM))
        if fields is not None:
            check_not_revoked(token, fields)
        # Of concurrent refreshes of one token exactly one wins (SingleUseRefreshToken).
        # The blacklisting and the successor's record share one transaction, so a
        # failure in between leaves the old token usable, not the client without one.
        try:
            with transaction.atomic():
                return super().validate(attrs)
        except (User.DoesNotExist, exceptions.AuthenticationFailed):
            # simplejwt 5.5.1 lets DoesNotExist escape (a 500) and refuses an inactive
            # user with a bare `{"detail"}`; every other dead token is a 401 with a code.
            raise AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            ) from None


class RefreshTokenRotationSerializerSchema(TokenRefreshSerializerExtension):
    """Document RefreshTokenRotationSerializer exactly as simplejwt's is documented."""

    target_class = RefreshTokenRotationSerializer
