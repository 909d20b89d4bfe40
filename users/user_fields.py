"""The signed-in user's fields, cached under that user's own generation, with an age bound.

Authentication reads them on every bearer-token request instead of querying the
database. Two rules keep a removed right (a deactivation, a demotion, a deletion) from
outliving its removal:

* at once while Redis works: the user's saves and deletion replace their generation
  (users.signals), so every worker's next request misses and reads the database;
* within `USER_FIELDS_MAX_AGE` (at most 30 s) whatever happens to Redis: each entry
  carries the wall-clock time at which its rows were read, taken before the query,
  and is trusted only while younger than that. A lost invalidation, a flush, a
  failover to a replica that missed the latest writes or a restore from an older
  snapshot cannot make an old read look new: a restored entry brings its old time
  back with it. Clocks of the hosts that share the cache are assumed to agree
  (NTP); an entry from the future is not trusted.

Entries live under a key naming their format, derived from their layout and field
list, so a release that changes either reads the database instead of an old entry.
"""

import hashlib
import math
import time

from django.conf import settings

from core import cache as api_cache

from .models import User

# What requests need of the signed-in user. Not the password hash: it stays in the
# database (the cached user reads it from there if asked, see CachedUser).
# `tokens_valid_after`: tokens issued before it are refused (users.accounts).
CACHED_FIELDS = (
    "id",
    "name",
    "email",
    "created_at",
    "is_staff",
    "is_superuser",
    "is_active",
    "tokens_valid_after",
)


def format_of(layout: int, fields) -> str:
    """The name of a format: it changes with the stored value's layout or field list."""
    return hashlib.sha256(repr((layout, tuple(fields))).encode()).hexdigest()[:8]


# Bump when the stored value's shape changes; a change of CACHED_FIELDS changes the
# format by itself.
LAYOUT = 2
FORMAT = format_of(LAYOUT, CACHED_FIELDS)


def wall_clock() -> float:
    """Seconds since the epoch: comparable between the workers and hosts sharing Redis."""
    return time.time()


def max_age() -> float:
    # Held to the limit even when a test or a shell sets more (startup refuses more).
    return min(float(settings.USER_FIELDS_MAX_AGE), settings.USER_FIELDS_MAX_AGE_LIMIT)


def user_fields_key(user_id) -> str:
    return f"auth:{FORMAT}:{api_cache.user_family(user_id)}"


def load_user_fields(user_id) -> dict | None:
    return User.objects.filter(pk=user_id).values(*CACHED_FIELDS).first()


def _trusted(entry) -> dict | None:
    """The fields of a cached entry if it has this release's shape and is young enough."""
    if not isinstance(entry, dict) or entry.keys() != {"read_at", "fields"}:
        return None
    read_at, fields = entry["read_at"], entry["fields"]
    if not isinstance(read_at, float) or not isinstance(fields, dict):
        return None
    if fields.keys() != set(CACHED_FIELDS):
        return None
    if not 0 <= wall_clock() - read_at <= max_age():
        return None
    return fields


def cached_user_fields(user_id, load=None) -> dict | None:
    """The fields of a user, from the cache when current and young, else from `load()`.

    `load()` returns a dict, or None for a user that does not exist (never cached).
    Same protocol as pages, so a request that loaded the user before a committed change
    (deactivation, demotion) cannot leave the old fields where later requests use them.
    """
    load = load or (lambda: load_user_fields(user_id))
    family = api_cache.user_family(user_id)
    key = user_fields_key(user_id)
    entry, generation = api_cache.read_current(family, key)
    fields = _trusted(entry)
    if fields is not None:
        return fields
    # Before the query: the entry must not look younger than the rows it holds.
    read_at = wall_clock()
    fields = load()
    ttl = math.ceil(max_age())
    if fields is not None and generation is not None and ttl > 0:
        entry = {"read_at": read_at, "fields": fields}
        api_cache.store_current(key, generation, entry, ttl)
    return fields
