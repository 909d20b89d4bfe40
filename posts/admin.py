"""Posts in the Django admin, for staff."""

from django.contrib import admin

from core import cache as api_cache

from .models import Post


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    """List, search and filter posts; the author is picked by autocomplete."""

    list_display = ("id", "title", "user", "created_at")
    list_select_related = ("user",)
    search_fields = ("title", "user__email")
    list_filter = ("created_at",)
    date_hierarchy = "created_at"
    # A select of a million users must never render: search them instead.
    autocomplete_fields = ("user",)
    readonly_fields = ("created_at",)
    ordering = ("-id",)
    show_full_result_count = False

    def delete_queryset(self, request, queryset):
        # The bulk delete action; invalidate explicitly rather than trust that every
        # row sends a signal (QuerySet.delete may skip them, and a cascade does).
        super().delete_queryset(request, queryset)
        api_cache.invalidate_on_commit(api_cache.POSTS)
