from django.urls import re_path

from core.routers import OptionalSlashRouter

from .views import MeView, RegisterView, TokenObtainView, TokenRefreshRotateView, UserViewSet

router = OptionalSlashRouter()
router.register("users", UserViewSet, basename="user")

urlpatterns = [
    *router.urls,
    # Like the router's routes: with or without the trailing slash, no redirect.
    re_path(r"^auth/register/?$", RegisterView.as_view(), name="auth-register"),
    re_path(r"^auth/token/?$", TokenObtainView.as_view(), name="auth-token"),
    re_path(r"^auth/token/refresh/?$", TokenRefreshRotateView.as_view(), name="auth-refresh"),
    re_path(r"^auth/me/?$", MeView.as_view(), name="auth-me"),
]
