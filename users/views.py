"""The Users API: a thin viewset delegating to serializers, filters and selectors."""

from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from . import selectors
from .filters import UserFilterSet
from .serializers import UserSerializer


class UserViewSet(viewsets.ModelViewSet):
    """CRUD on users, `search` (the filtered list) and `stats`."""

    queryset = selectors.user_list()
    serializer_class = UserSerializer
    filterset_class = UserFilterSet
    lookup_value_regex = "[0-9]+"

    @action(detail=False, methods=["get"])
    def search(self, request):
        """The list, under the name the original API gave it."""
        return self.list(request)

    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def stats(self, request):
        """Total users and users created in the last 7 days."""
        return Response(selectors.user_stats())
