"""The Users API and the auth endpoints: thin views delegating to the app's modules."""

from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from core import cache as api_cache
from core.filtering import KnownQueryParamsMixin
from core.pages import CachedResponseMixin
from core.throttling import AuthEndpointThrottle

from . import selectors, services
from .filters import UserFilterSet
from .permissions import UserAccess, users_page_audience
from .serializers import (
    RefreshTokenRotationSerializer,
    RegisterSerializer,
    SignInSerializer,
    UserCreateSerializer,
    UserSerializer,
    UserStatsSerializer,
)


class UserViewSet(KnownQueryParamsMixin, CachedResponseMixin, viewsets.ModelViewSet):
    """CRUD on users, `search` (the filtered list) and `stats`; reads (one user too) cached."""

    queryset = selectors.user_list()
    serializer_class = UserSerializer
    filterset_class = UserFilterSet
    permission_classes = [UserAccess]
    # One spelling per id (no leading zeros, at most 19 digits): one cached page per row.
    lookup_value_regex = "[1-9][0-9]{0,18}"
    # Lists and one user's page come in two shared variants, "staff" (with emails) and
    # "member" (without): users.permissions.users_page_audience says which a caller gets.
    cached_pages = {
        "list": (api_cache.USERS, "users", True, lambda view: view.page_audience()),
        "search": (api_cache.USERS, "users", True, lambda view: view.page_audience()),
        "stats": (api_cache.USERS, "users:stats", False),
        # One user's page lives under that user's generation, which their own saves and
        # deletion replace (users.signals): a write elsewhere leaves it cached.
        "retrieve": (
            lambda view: api_cache.user_family(view.user_pk()),
            "user",
            False,
            lambda view: view.page_audience(view.user_pk()),
        ),
    }

    def user_pk(self) -> int:
        return int(self.kwargs["pk"])

    def page_audience(self, user_pk=None) -> str:
        return users_page_audience(self.request.user, user_pk)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action in ("list", "search"):
            # One page for every member, so no row may show its reader's own email.
            context["show_emails"] = self.page_audience() == "staff"
        return context

    def perform_destroy(self, instance):
        services.user_delete(instance)

    def get_serializer_class(self):
        if self.action == "create":
            return UserCreateSerializer
        return UserSerializer

    def list(self, request, *args, **kwargs):
        return self.cached_response(lambda: super(UserViewSet, self).list(request))

    def retrieve(self, request, *args, **kwargs):
        return self.cached_response(
            lambda: super(UserViewSet, self).retrieve(request, *args, **kwargs)
        )

    @extend_schema(responses=UserSerializer(many=True))
    @action(detail=False, methods=["get"])
    def search(self, request, *args, **kwargs):
        """The list, under the name the original API gave it."""
        return self.list(request)

    @extend_schema(responses=UserStatsSerializer)
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def stats(self, request, *args, **kwargs):
        """Total users and users created in the last 7 days."""
        return self.cached_response(lambda: Response(selectors.user_stats()))


@extend_schema(responses={201: UserSerializer})
class RegisterView(generics.CreateAPIView):
    """Sign up: anyone may create their own account, with a password.

    Credentials are not read (a token sent here is ignored), and the limit is per
    client address for everyone, signed in or not.
    """

    serializer_class = RegisterSerializer
    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [AuthEndpointThrottle]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.save()
        # The new account is the caller's own: they see the email as it was stored.
        return Response(UserSerializer(user, context={"show_emails": True}).data, status=201)


class MeView(generics.RetrieveAPIView):
    """The signed-in caller's own user."""

    serializer_class = UserSerializer

    def get_object(self):
        return self.request.user


# Responses that carry tokens (and their errors) are never kept by a browser or proxy:
# Cache-Control: no-store (with no-cache, must-revalidate, private, max-age=0).
@method_decorator(never_cache, name="dispatch")
class TokenObtainView(TokenObtainPairView):
    """Sign in with email and password for an access and a refresh token.

    Limited per client address (every attempt) and per account (failed attempts, from
    any address); past either limit: 429 with Retry-After.
    """

    serializer_class = SignInSerializer
    throttle_classes = [AuthEndpointThrottle]
    schema_extra_error_codes = ("401",)


@method_decorator(never_cache, name="dispatch")
class TokenRefreshRotateView(TokenRefreshView):
    """Trade a refresh token for a new pair; the used one is blacklisted: it works once."""

    serializer_class = RefreshTokenRotationSerializer
    throttle_classes = [AuthEndpointThrottle]
    schema_extra_error_codes = ("401",)
