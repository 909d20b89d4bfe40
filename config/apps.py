from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project package as an app, for its project-wide management commands."""

    name = "config"
    label = "project"
