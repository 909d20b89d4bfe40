"""Users in the Django admin, for staff."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core import cache as api_cache

from . import accounts
from .forms import UserAdminChangeForm, UserAdminCreationForm
from .models import User
from .permissions import may_modify_user


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """List, search, filter, add and change users, including their password."""

    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    list_display = ("id", "name", "email", "created_at", "is_staff", "post_count")
    list_filter = ("is_staff", "is_superuser", "is_active", "created_at")
    search_fields = ("name", "email")
    ordering = ("id",)
    readonly_fields = ("created_at", "last_login", "post_count", "latest_posts")
    # The changelist pages with one COUNT; a million-row table needs no more.
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("name",)}),
        ("Posts", {"fields": ("post_count", "latest_posts")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "created_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "name", "usable_password", "password1", "password2"),
            },
        ),
    )

    actions = ["sign_out_everywhere"]

    LATEST_POSTS_SHOWN = 10
    # What only a superuser may grant: with any of them, staff could make themselves
    # the equal of one.
    SUPERUSER_ONLY_FIELDS = ("is_superuser", "groups", "user_permissions")

    def has_change_permission(self, request, obj=None):
        # Only a superuser changes a superuser (users.permissions.may_modify_user, as in
        # the API); staff still see one, read-only, with the view permission.
        if obj is not None and not may_modify_user(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Checked for every selected row by the bulk delete action too.
        if obj is not None and not may_modify_user(request.user, obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None and not request.user.is_superuser:
            return (*readonly, *self.SUPERUSER_ONLY_FIELDS)
        return readonly

    @admin.action(description="Sign out everywhere", permissions=["change"])
    def sign_out_everywhere(self, request, queryset):
        """Refuse every token the selected users hold (users.accounts.revoke_tokens).

        Only a superuser signs out a superuser (users.permissions.may_modify_user): the
        others among the selection are left alone and named in the message.
        """
        selected = list(queryset.only("pk", "email", "is_superuser"))
        allowed = [u for u in selected if may_modify_user(request.user, u)]
        refused = [u for u in selected if u not in allowed]
        accounts.revoke_tokens([u.pk for u in allowed])
        self.message_user(
            request, f"{len(allowed)} user(s) signed out everywhere.", messages.SUCCESS
        )
        if refused:
            names = ", ".join(u.email for u in refused)
            self.message_user(
                request, f"Only a superuser may sign out a superuser: {names}.", messages.ERROR
            )

    def delete_queryset(self, request, queryset):
        # The bulk delete action; invalidate explicitly rather than trust that every
        # row sends a signal (QuerySet.delete may skip them, and a cascade does).
        user_ids = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        api_cache.invalidate_on_commit(
            api_cache.USERS, api_cache.POSTS, *map(api_cache.user_family, user_ids)
        )

    @admin.display(description="latest posts")
    def latest_posts(self, obj):
        posts = obj.posts.order_by("-id")[: self.LATEST_POSTS_SHOWN]
        rows = format_html_join(
            "",
            '<li><a href="{}">{}</a> ({})</li>',
            (
                (reverse("admin:posts_post_change", args=[p.pk]), p.title, p.created_at)
                for p in posts
            ),
        )
        return format_html("<ul>{}</ul>", rows) if rows else "none"
