"""Admin forms for the custom user model (Django's own, pointed at our fields)."""

from django import forms
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError

from .models import User


class NormalizedEmailMixin:
    """The email in its stored form (users.managers.normalize_email), or the rule's
    message on the field; uniqueness is then checked against what will be stored."""

    def clean_email(self):
        try:
            return User.objects.normalize_email(self.cleaned_data["email"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages, code="invalid") from None


class UserAdminCreationForm(NormalizedEmailMixin, AdminUserCreationForm):
    """Add a user in the admin, with or without a usable password."""

    class Meta:
        model = User
        fields = ("email", "name")


class UserAdminChangeForm(NormalizedEmailMixin, UserChangeForm):
    """Change a user in the admin; the password is changed through its own form."""

    class Meta:
        model = User
        fields = "__all__"
