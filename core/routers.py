"""The router every app registers its viewsets with."""

from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """Routes that answer both `/users` and `/users/`, without a redirect."""

    def __init__(self):
        super().__init__()
        # DRF's documented way to make the slash optional (the constructor takes a bool).
        self.trailing_slash = "/?"
