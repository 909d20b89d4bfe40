from django.apps import AppConfig


class PostsConfig(AppConfig):
    """The posts app: posts written by users, and the Posts API."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "posts"
