"""Cache invalidation when posts change: the only thing these receivers do."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core import cache as api_cache

from .models import Post


@receiver(post_save, sender=Post, dispatch_uid="posts.invalidate_on_save")
@receiver(post_delete, sender=Post, dispatch_uid="posts.invalidate_on_delete")
def invalidate_after_post_change(sender, instance, **kwargs):
    """A created, changed or deleted post changes post lists and the ranking."""
    api_cache.invalidate_on_commit(api_cache.POSTS)
