"""Admin forms for the custom user model (Django's own, pointed at our fields)."""

from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from .models import User


class UserAdminCreationForm(AdminUserCreationForm):
    """Add a user in the admin, with or without a usable password."""

    class Meta:
        model = User
        fields = ("email", "name")


class UserAdminChangeForm(UserChangeForm):
    """Change a user in the admin; the password is changed through its own form."""

    class Meta:
        model = User
        fields = "__all__"
