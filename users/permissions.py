"""Who may do what to users, as DRF permission classes (the role table in README.md)."""

from rest_framework.permissions import SAFE_METHODS, BasePermission


def is_staff(user) -> bool:
    """Staff may do everything through the API, except to superusers."""
    return bool(user and user.is_authenticated and user.is_staff)


def may_modify_user(actor, target) -> bool:
    """Change or delete `target`: oneself; staff anyone but a superuser; superusers anyone.

    The admin (users.admin.UserAdmin) applies the same rule to superusers.
    """
    if actor.pk == target.pk:
        return True
    if target.is_superuser:
        return bool(actor.is_superuser)
    return is_staff(actor)


def may_see_email(viewer, user_pk) -> bool:
    """Emails are shown to staff and to the user themselves, never to other members."""
    return is_staff(viewer) or bool(viewer and viewer.is_authenticated and viewer.pk == user_pk)


def users_page_audience(viewer, user_pk=None) -> str:
    """Which shared variant of a cached users page `viewer` gets: "staff" or "member".

    A "staff" page shows emails, a "member" page none. A list is one page for every
    member, so it shows no email, not even the reader's own; one user's page
    (`user_pk`) is read by its owner as staff read it. Never a variant per caller.
    """
    shows_emails = is_staff(viewer) if user_pk is None else may_see_email(viewer, user_pk)
    return "staff" if shows_emails else "member"


class UserAccess(BasePermission):
    """Signed-in callers read every user; creating is for staff; writes follow
    `may_modify_user`."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if view.action == "create":
            return is_staff(request.user)
        return True

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS:
            return True
        return may_modify_user(request.user, obj)
