"""The Users API and the auth endpoints: thin views delegating to the app's modules."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from core import cache as api_cache
from core.filtering import ListFiltersOnlyMixin
from core.pages import CachedResponseMixin
from core.throttling import AuthEndpointThrottle, SignedInUserThrottle

from . import selectors, services
from .account_serializers import RevocationCheckedTokenRefreshSerializer
from .filters import UserFilterSet
from .permissions import UserAccess
from .serializers import (
    RegisterSerializer,
    UserCreateSerializer,
    UserSerializer,
    UserStatsSerializer,
)


class UserViewSet(ListFiltersOnlyMixin, CachedResponseMixin, viewsets.ModelViewSet):
    """CRUD on users, `search` (the filtered list) and `stats`; reads (one user too) cached."""

    queryset = selectors.user_list()
    serializer_class = UserSerializer
    filterset_class = UserFilterSet
    permission_classes = [UserAccess]
    lookup_value_regex = "[0-9]+"
    cached_pages = {
        "list": (api_cache.USERS, "users", True),
        "search": (api_cache.USERS, "users", True),
        "stats": (api_cache.USERS, "users:stats", False),
        # One user's page lives under that user's generation, which their own saves and
        # deletion replace (users.signals): a write elsewhere leaves it cached.
        "retrieve": (lambda view: api_cache.user_family(int(view.kwargs["pk"])), "user", False),
    }

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
    """Sign up: anyone may create their own account, with a password."""

    serializer_class = RegisterSerializer
    permission_classes = [permissions.AllowAny]
    throttle_classes = [AuthEndpointThrottle, SignedInUserThrottle]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.save()
        return Response(UserSerializer(user).data, status=201)


class MeView(generics.RetrieveAPIView):
    """The signed-in caller's own user."""

    serializer_class = UserSerializer

    def get_object(self):
        return self.request.user


class TokenObtainView(TokenObtainPairView):
    """Sign in with email and password for an access and a refresh token."""

    throttle_classes = [AuthEndpointThrottle]
    schema_extra_error_codes = ("401",)


class TokenRefreshRotateView(TokenRefreshView):
    """Trade a refresh token for a new pair; the used one is blacklisted."""

    serializer_class = RevocationCheckedTokenRefreshSerializer
    throttle_classes = [AuthEndpointThrottle]
    schema_extra_error_codes = ("401",)
