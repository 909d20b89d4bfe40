"""Who may do what to users, as DRF permission classes (the role table in README.md)."""

from rest_framework.permissions import SAFE_METHODS, BasePermission


def is_staff(user) -> bool:
    """Staff may do everything through the API."""
    return bool(user and user.is_authenticated and user.is_staff)


class UserAccess(BasePermission):
    """Signed-in callers read every user; creating is for staff; members change only
    themselves."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if view.action == "create":
            return is_staff(request.user)
        return True

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS:
            return True
        return is_staff(request.user) or obj.pk == request.user.pk
