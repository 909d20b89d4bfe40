from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class UsersConfig(AppConfig):
    """The users app: the custom user model and the Users API."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "users"

    def ready(self):
        from . import signals  # noqa: F401 - connects the cache-invalidation receivers


class StaffAdminConfig(AdminConfig):
    """django.contrib.admin, with users.admin_site.StaffAdminSite as `admin.site`."""

    default_site = "users.admin_site.StaffAdminSite"
