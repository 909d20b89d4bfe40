from django.urls import re_path

from core.routers import OptionalSlashRouter

from . import account_views as accounts
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
    # Accounts (users.account_views).
    re_path(
        r"^auth/password/change/?$",
        accounts.PasswordChangeView.as_view(),
        name="auth-password-change",
    ),
    re_path(
        r"^auth/password/reset/?$", accounts.PasswordResetView.as_view(), name="auth-password-reset"
    ),
    re_path(
        r"^auth/password/reset/confirm/?$",
        accounts.PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
    re_path(r"^auth/logout/?$", accounts.LogoutView.as_view(), name="auth-logout"),
    re_path(r"^auth/logout-all/?$", accounts.LogoutAllView.as_view(), name="auth-logout-all"),
]
