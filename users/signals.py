"""Cache invalidation when users change: the only thing these receivers do."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core import cache as api_cache

from .models import User


@receiver(post_save, sender=User, dispatch_uid="users.invalidate_on_save")
def invalidate_after_user_save(sender, instance, **kwargs):
    """A created or changed user changes user lists, stats and their cached self."""
    api_cache.invalidate_on_commit(api_cache.USERS, api_cache.user_family(instance.pk))


@receiver(post_delete, sender=User, dispatch_uid="users.invalidate_on_delete")
def invalidate_after_user_delete(sender, instance, **kwargs):
    """A deleted user also takes their posts (a database cascade sends no signals)."""
    api_cache.invalidate_on_commit(
        api_cache.USERS, api_cache.POSTS, api_cache.user_family(instance.pk)
    )
