"""Users in the Django admin, for staff."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .forms import UserAdminChangeForm, UserAdminCreationForm
from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """List, search, filter, add and change users, including their password."""

    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    list_display = ("id", "name", "email", "created_at", "is_staff")
    list_filter = ("is_staff", "is_superuser", "is_active", "created_at")
    search_fields = ("name", "email")
    ordering = ("id",)
    readonly_fields = ("created_at", "last_login")
    # The changelist pages with one COUNT; a million-row table needs no more.
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("name",)}),
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
