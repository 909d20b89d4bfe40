"""The account endpoints: change and reset a password, sign out. Thin: users.accounts acts."""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from core.throttling import AuthEndpointThrottle, SignedInUserThrottle

from . import accounts
from .account_serializers import (
    DetailSerializer,
    LogoutSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
)
from .sign_in import account_key
from .throttling import AccountThrottle, body_field

RESET_ACCEPTED = "If an active account uses this address, a reset link is on its way."


def _no_content():
    return Response(status=status.HTTP_204_NO_CONTENT)


class AccountView(GenericAPIView):
    """POST-only: validate the body, hand it to `act`, answer."""

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.act(request, **serializer.validated_data)


@extend_schema(responses={204: None})
class PasswordChangeView(AccountView):
    """Change the caller's password; every token issued before it is refused."""

    serializer_class = PasswordChangeSerializer
    throttle_classes = [AuthEndpointThrottle, AccountThrottle, SignedInUserThrottle]

    def throttle_account(self, request):
        return f"user:{request.user.pk}"

    def act(self, request, old_password, new_password):
        accounts.password_change(request.user.pk, old_password, new_password)
        return _no_content()


@extend_schema(responses={202: DetailSerializer})
class PasswordResetView(AccountView):
    """Ask for a reset link by email; the answer is the same whether or not it exists."""

    serializer_class = PasswordResetSerializer
    permission_classes = [permissions.AllowAny]
    throttle_classes = [AuthEndpointThrottle, AccountThrottle, SignedInUserThrottle]

    def throttle_account(self, request):
        email = body_field(request, "email")
        # Every spelling of one account's address shares one budget, as for sign-in.
        return f"email:{account_key(email)}" if email else None

    def act(self, request, email):
        accounts.password_reset_request(email)
        return Response({"detail": RESET_ACCEPTED}, status=status.HTTP_202_ACCEPTED)


@extend_schema(responses={204: None})
class PasswordResetConfirmView(AccountView):
    """Set a new password with the uid and token of a reset link."""

    serializer_class = PasswordResetConfirmSerializer
    permission_classes = [permissions.AllowAny]
    throttle_classes = [AuthEndpointThrottle, AccountThrottle, SignedInUserThrottle]

    def throttle_account(self, request):
        uid = body_field(request, "uid")
        if not uid:
            return None
        # Many strings decode to one pk (padding, stray characters, "01"): key on the pk.
        pk = accounts.user_pk_from_uid(uid)
        return f"uid:{pk}" if pk is not None else f"uid:{uid}"

    def act(self, request, uid, token, new_password):
        accounts.password_reset_confirm(uid, token, new_password)
        return _no_content()


@extend_schema(responses={204: None})
class LogoutView(AccountView):
    """Sign out one device: its refresh token is blacklisted."""

    serializer_class = LogoutSerializer

    def act(self, request, refresh):
        accounts.logout(request.user.pk, refresh)
        return _no_content()


@extend_schema(request=None, responses={204: None})
class LogoutAllView(GenericAPIView):
    """Sign out everywhere: every token of the caller issued until now is refused."""

    def post(self, request, *args, **kwargs):
        accounts.revoke_tokens([request.user.pk])
        return _no_content()
