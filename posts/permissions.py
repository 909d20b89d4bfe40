"""Who may do what to posts, as DRF permission classes and the one rule they share."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from users.permissions import is_staff


def may_write_posts_of(actor, owner_id) -> bool:
    """Staff write anyone's posts; a member writes only their own."""
    return is_staff(actor) or actor.pk == owner_id


class PostAccess(BasePermission):
    """Signed-in callers read every post; writes follow `may_write_posts_of`.

    Creating for another user is refused in the view once `user_id` is validated, so
    that a malformed or unknown `user_id` is a 400 rather than a 403.
    """

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS:
            return True
        return may_write_posts_of(request.user, obj.user_id)
