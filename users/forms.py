"""Admin forms: the login, limited, and Django's user forms pointed at our fields."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError

from core.throttling import AuthEndpointThrottle, Verdict

from .models import User
from .sign_in import sign_in_attempt


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login, limited as `/auth/token` is and sharing its counts.

    Per client address every attempt counts (the API's sign-in budget, `API_THROTTLE_AUTH`);
    per account only failed ones, from any address (`API_THROTTLE_ACCOUNT`), so a
    password guessed on one counts against the other. A refused attempt is not checked:
    the form shows one error, the same whether or not the account exists, and `refusal`
    gives the site the status to answer with: 429 and the seconds to wait.

    Unlike the API, this form fails closed: while the counters cannot be reached it
    refuses every attempt (503). Staff are few, their sessions live in the database and
    outlast an outage, and their accounts are the ones most worth guessing; the API's
    users, by contrast, could not sign in at all.
    """

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": "Too many sign-in attempts. Try again in %(seconds)s seconds.",
        "unavailable": "Signing in is unavailable for a moment. Try again shortly.",
    }

    refusal: tuple[int, int | None] | None = None

    def clean(self):
        self._refuse_unless(AuthEndpointThrottle().count_address(self.request))
        username = self.cleaned_data.get("username")
        attempt = None
        if username is not None and self.cleaned_data.get("password"):
            attempt = sign_in_attempt(username)
            self._refuse_unless(attempt.verdict)
        cleaned_data = super().clean()
        if attempt is not None:
            attempt.succeeded()
        return cleaned_data

    def _refuse_unless(self, verdict: Verdict) -> None:
        if not verdict.counted:
            self.refusal = (503, None)
            raise ValidationError(self.error_messages["unavailable"], code="unavailable")
        if not verdict.allowed:
            self.refusal = (429, verdict.wait)
            raise ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"seconds": verdict.wait},
            )


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
