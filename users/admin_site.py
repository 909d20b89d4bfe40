"""The admin site: Django's, with the login limited per address and per account."""

from django.contrib import admin

from .forms import AdminLoginForm


class StaffAdminSite(admin.AdminSite):
    """Django's admin site whose login answers 429 (or 503) when its form refuses."""

    login_form = AdminLoginForm

    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        refusal = getattr(form, "refusal", None)
        if refusal is not None:
            # Still the login page, with the form's error, for the person at the browser.
            response.status_code, wait = refusal
            if wait is not None:
                response["Retry-After"] = str(wait)
        return response
