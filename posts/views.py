"""The Posts API: a thin viewset delegating to serializers, filters and selectors."""

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied

from core import cache as api_cache
from core.filtering import KnownQueryParamsMixin
from core.pages import CachedResponseMixin

from . import selectors, services
from .filters import PostCountFilterSet, PostFilterSet
from .permissions import PostAccess, may_write_posts_of
from .serializers import PostCountSerializer, PostSerializer


class PostViewSet(KnownQueryParamsMixin, CachedResponseMixin, viewsets.ModelViewSet):
    """CRUD on posts, filtered by `user_id`, and the posts-per-user `stats`; reads cached."""

    serializer_class = PostSerializer
    filterset_class = PostFilterSet
    permission_classes = [PostAccess]
    # One spelling per id (no leading zeros, at most 19 digits): one cached page per row.
    lookup_value_regex = "[1-9][0-9]{0,18}"
    cached_pages = {
        "list": (api_cache.POSTS, "posts", True),
        "stats": (api_cache.POSTS, "posts:stats", True),
    }

    def get_queryset(self):
        # The ranking reads users (their trigger-kept post_count), everything else posts.
        if self.action == "stats":
            return selectors.post_counts_by_user()
        return selectors.post_list()

    def perform_destroy(self, instance):
        services.post_delete(instance)

    def perform_create(self, serializer):
        owner = serializer.validated_data.get("user", self.request.user)
        if not may_write_posts_of(self.request.user, owner.pk):
            raise PermissionDenied("You may only create posts as yourself.")
        serializer.save(user=owner)

    def list(self, request, *args, **kwargs):
        return self.cached_response(lambda: super(PostViewSet, self).list(request))

    @extend_schema(responses=PostCountSerializer(many=True))
    @action(
        detail=False,
        methods=["get"],
        serializer_class=PostCountSerializer,
        filterset_class=PostCountFilterSet,
    )
    def stats(self, request, *args, **kwargs):
        """Paginated (user_id, post_count) rows, most posts first."""
        return self.cached_response(self._post_counts_page)

    def _post_counts_page(self):
        rows = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
