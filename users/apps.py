from django.apps import AppConfig


class UsersConfig(AppConfig):
    """The users app: the custom user model and the Users API."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "users"

    def ready(self):
        from . import signals  # noqa: F401 - connects the cache-invalidation receivers
