"""The signed-in user's fields, cached under that user's own generation.

Authentication reads them on every bearer-token request instead of querying the
database; the user's saves and deletion replace the generation (users.signals), so a
deactivation, demotion or deletion is seen by every worker on its next request.
"""

from django.conf import settings

from core import cache as api_cache

from .models import User

# What requests need of the signed-in user. Not the password hash: it stays in the
# database, and the cached user is never saved back.
CACHED_FIELDS = ("id", "name", "email", "created_at", "is_staff", "is_superuser", "is_active")
CACHED_FIELDS += ("tokens_valid_after",)  # tokens issued before: users.accounts


def user_fields_key(user_id) -> str:
    return f"auth:{api_cache.user_family(user_id)}"


def load_user_fields(user_id) -> dict | None:
    return User.objects.filter(pk=user_id).values(*CACHED_FIELDS).first()


def cached_user_fields(user_id, load=None, request=None) -> dict | None:
    """The fields of a user, from the cache when current, else from `load()` (and kept).

    `load()` returns a dict, or None for a user that does not exist (never cached).
    Same protocol as pages, so a request that loaded the user before a committed change
    (deactivation, demotion) cannot leave the old fields where later requests use them.
    """
    load = load or (lambda: load_user_fields(user_id))
    family = api_cache.user_family(user_id)
    key = user_fields_key(user_id)
    fields, generation = api_cache.read_current(family, key, request)
    if fields is not None:
        return fields
    fields = load()
    if fields is not None and generation is not None:
        api_cache.store_current(key, generation, fields, settings.USER_CACHE_TTL)
    return fields
