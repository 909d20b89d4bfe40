"""The one place that talks to the cache: failure isolation, key layout, invalidation.

Failure isolation. Every cache call goes through `guarded()`: a cache that is down,
unreachable or slow costs a request at most one connect/read timeout, after which a
circuit breaker skips the cache for `CACHE_BREAKER_SECONDS` and the API answers from
PostgreSQL alone. The failure is logged once per burst, and the first call after the
pause tries again, so caching resumes by itself when the cache is back.

Pages. Each cached response belongs to a family ("users", "posts") whose current
generation is a random token under `gen:<family>`. A stored page carries the token
that was current *before* its rows were read; a lookup fetches the token and the page
in one round trip and serves the page only if the two match. Invalidating a family
replaces its token: one write, whatever the number of cached pages (no KEYS, no SCAN),
and a reader that queried the database before a commit can store its page, but never
where a later reader will accept it. Orphaned pages expire with `CACHE_TTL`.
"""

import hashlib
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache, caches
from django.db import transaction
from django_redis.cache import RedisCache

logger = logging.getLogger("config.cache")


class _CircuitBreaker:
    """Per-process memory of a recent cache failure, shared by the worker's threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._open_until = 0.0
        self._failing = False

    def allows_call(self) -> bool:
        return time.monotonic() >= self._open_until

    def record_failure(self, exc: Exception) -> None:
        pause = settings.CACHE_BREAKER_SECONDS
        with self._lock:
            self._open_until = time.monotonic() + pause
            first = not self._failing
            self._failing = True
        if first:
            logger.warning(
                "cache unavailable (%s: %s); serving without it, retrying every %ss",
                exc.__class__.__name__,
                exc,
                pause,
            )

    def record_success(self) -> None:
        if self._failing:
            with self._lock:
                recovered, self._failing = self._failing, False
            if recovered:
                logger.warning("cache available again; caching resumed")

    def reset(self) -> None:
        with self._lock:
            self._open_until = 0.0
            self._failing = False


breaker = _CircuitBreaker()


FAILED = object()


def guarded(operation, *args, default=None, **kwargs):
    """Run one cache operation; on any cache failure return `default` instead of raising.

    Any exception counts: django-redis raises its own and redis-py's, the database
    cache raises database errors, and none of them may fail a request.
    """
    if not breaker.allows_call():
        return default
    try:
        result = operation(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - see docstring
        breaker.record_failure(exc)
        return default
    breaker.record_success()
    return result


# --- Families and their generations ----------------------------------------------------

USERS = "users"
POSTS = "posts"
FAMILIES = (USERS, POSTS)

# Families whose invalidation could not reach the cache. Until it does, this process
# serves them from the database and retries first thing on its next cache access, so a
# cache that was only unreachable (and kept its data) cannot serve their old pages here.
_pending_invalidations: set[str] = set()
_pending_lock = threading.Lock()


def _generation_key(family: str) -> str:
    return f"gen:{family}"


def _new_token() -> str:
    return secrets.token_hex(8)


# Generations outlive the entries stored under them; one that expires anyway costs
# misses, never staleness, because a lost token is never re-issued.
GENERATION_TTL = 24 * 3600


def invalidate(*families: str) -> bool:
    """Drop every cached page of these families now: one write in all.

    Returns False when the cache could not be reached; the invalidation is then
    remembered and re-sent (see `_pending_invalidations`).
    """
    tokens = {_generation_key(family): _new_token() for family in families}
    if guarded(cache.set_many, tokens, timeout=GENERATION_TTL, default=FAILED) is FAILED:
        with _pending_lock:
            _pending_invalidations.update(families)
        return False
    with _pending_lock:
        _pending_invalidations.difference_update(families)
    return True


def invalidate_on_commit(*families: str) -> None:
    """Invalidate once the current transaction commits; nothing if it rolls back.

    Invalidating before the commit would let a reader re-fill the cache with the rows
    the commit is about to replace.
    """
    transaction.on_commit(lambda: invalidate(*families))


def invalidate_all() -> bool:
    """Drop every cached API page and user (`manage.py clear_api_cache`, seeding).

    The shared families take one write each. Each user's own generation (their page and
    signed-in fields) is deleted, which takes a scan of the `gen:user:*` keys on Redis
    and a clear of the whole cache elsewhere: fine for this rare, deliberate call, never
    used on the write path.
    """
    shared = invalidate(*FAMILIES)
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        every_user = _generation_key(user_family("*"))
        per_user = guarded(backend.delete_pattern, every_user, default=FAILED)
    else:
        per_user = guarded(backend.clear, default=FAILED)
    return shared and per_user is not FAILED


def forget_failures() -> None:
    """Close the breaker and drop outstanding invalidations (a fresh process's state)."""
    breaker.reset()
    with _pending_lock:
        _pending_invalidations.clear()


def _retry_pending_invalidations() -> bool:
    """Re-send invalidations that failed; True when none is outstanding."""
    if not _pending_invalidations:
        return True
    with _pending_lock:
        families = tuple(_pending_invalidations)
    invalidate(*families)
    return not _pending_invalidations


# --- Pages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CachedPage:
    """The bytes of one rendered JSON response and their strong ETag."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, body: bytes) -> "CachedPage":
        return cls(body=body, etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"')


def page_key(request, name: str, paginated: bool = True) -> str:
    """The key of one page: visibly `<name>:<skip>:<limit>`, then a digest of the rest.

    The bytes depend on scheme, host, path and every query parameter (the absolute
    `next`/`previous` links carry them all), so all of those go into the digest. Nothing
    about the caller does: cached pages are identical for everyone allowed to see them.
    """
    params = request.GET
    query = urlencode(sorted(params.lists()), doseq=True)
    where = f"{request.scheme}://{request.get_host()}{request.path}?{query}"
    digest = hashlib.sha256(where.encode()).hexdigest()[:24]
    if not paginated:
        return f"{name}:{digest}"
    skip, limit = params.get("skip", "0")[:24], params.get("limit", "10")[:24]
    return f"{name}:{skip}:{limit}:{digest}"


def _lookup_current(family: str, key: str, request=None):
    """One round trip: (the entry's payload if still current, the generation to store under).

    Served from the request's batch when `fetch_batch` already read both keys. The
    generation is None when the cache is unavailable or an invalidation of this family
    is still outstanding; the caller then neither trusts nor stores an entry.
    """
    if not _retry_pending_invalidations() and family in _pending_invalidations:
        return None, None
    generation_key = _generation_key(family)
    found = _batched_values(request, [generation_key, key])
    if found is None:
        found = guarded(cache.get_many, [generation_key, key], default=FAILED)
    if found is FAILED:
        return None, None
    generation = found.get(generation_key)
    if generation is None:
        # First use (or the cache was emptied): start a generation. `add` keeps a
        # token a concurrent invalidation may have just written.
        fresh = _new_token()
        added = guarded(cache.add, generation_key, fresh, timeout=GENERATION_TTL, default=FAILED)
        if added is FAILED:
            return None, None
        return None, fresh if added else guarded(cache.get, generation_key)
    entry = found.get(key)
    if entry is not None and entry[0] == generation:
        return entry[1], generation
    return None, generation


def _store(key: str, generation: str, payload, ttl: int) -> None:
    """Keep an entry under the generation read before its rows were queried."""
    guarded(cache.set, key, (generation, payload), timeout=ttl)


def lookup_page(family: str, key: str, request=None) -> tuple[CachedPage | None, str | None]:
    """The page under `key` if still current, and the generation to store a miss under."""
    payload, generation = _lookup_current(family, key, request)
    page = CachedPage(body=payload[0], etag=payload[1]) if payload is not None else None
    return page, generation


def store_page(key: str, generation: str, page: CachedPage) -> None:
    """Keep a page under the generation read before its rows were queried."""
    _store(key, generation, (page.body, page.etag), settings.CACHE_TTL)


# --- Signed-in users ---------------------------------------------------------------------


def user_family(user_id) -> str:
    """Each user is a family of one entry: their own generation, invalidated alone."""
    return f"user:{user_id}"


def user_key(user_id) -> str:
    return f"auth:{user_family(user_id)}"


def cached_user_fields(user_id, load, request=None):
    """The fields of a user, from the cache when current, else from `load()` (and kept).

    `load()` returns a dict, or None for a user that does not exist (never cached).
    Same protocol as pages, so a request that loaded the user before a committed change
    (deactivation, demotion) cannot leave the old fields where later requests use them.
    """
    family = user_family(user_id)
    key = user_key(user_id)
    fields, generation = _lookup_current(family, key, request)
    if fields is not None:
        return fields
    fields = load()
    if fields is not None and generation is not None:
        _store(key, generation, fields, settings.USER_CACHE_TTL)
    return fields


def _incr_or_start(key: str, ttl: int) -> int:
    try:
        # On Redis this is one round trip (django-redis runs EXISTS+INCRBY as a script).
        return cache.incr(key)
    except ValueError:
        # First hit of the window; `add` loses to a concurrent first hit, then incr wins.
        if cache.add(key, 1, timeout=ttl):
            return 1
        return cache.incr(key)


def throttle_key(scope: str, ident: str, window_seconds: int, now: float) -> str:
    return f"throttle:{scope}:{ident}:{int(now // window_seconds)}"


def throttle_hit(
    scope: str, ident: str, window_seconds: int, request=None
) -> tuple[int, int] | None:
    """Count one request in the caller's current fixed window.

    Returns (requests so far in this window, seconds until it ends), or None when the
    cache is unavailable (the caller then lets the request through). O(1) at any rate;
    free when the request's batch already counted it.
    """
    now = time.time()
    key = throttle_key(scope, ident, window_seconds, now)
    batch = getattr(request, BATCH_ATTRIBUTE, None)
    count = batch.counts.get(key) if batch is not None else None
    if count is None:
        count = guarded(_incr_or_start, key, window_seconds + 1)
    if count is None:
        return None
    window_end = (int(now // window_seconds) + 1) * window_seconds
    return count, max(1, int(window_end - now + 0.999))


# --- One round trip per request ----------------------------------------------------------

BATCH_ATTRIBUTE = "_api_cache_batch"


@dataclass(frozen=True)
class Batch:
    """What one request read and counted in its single round trip to Redis."""

    values: dict
    counts: dict


def fetch_batch(request, *, families_and_keys=(), counters=()) -> None:
    """Read entries (with their families' generations) and count throttle hits at once.

    Authentication calls this as soon as it knows the user, with what the view says it
    will need (`families_and_keys`: (family, key) pairs; `counters`: (key, ttl) pairs).
    The results wait on the request for `_lookup_current` and `throttle_hit`, which
    apply exactly the rules they apply to a value fetched alone. Only with Redis (one
    pipeline); with any other cache, or when the pipeline fails, nothing is stored and
    every reader asks for itself.
    """
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return
    keys = []
    for family, key in families_and_keys:
        keys += [_generation_key(family), key]

    def run_pipeline():
        client = backend.client
        pipeline = client.get_client(write=True).pipeline(transaction=False)
        if keys:
            pipeline.mget([client.make_key(key) for key in keys])
        for key, ttl in counters:
            raw = client.make_key(key)
            pipeline.incr(raw)
            pipeline.expire(raw, ttl, nx=True)
        return pipeline.execute()

    results = guarded(run_pipeline, default=FAILED)
    if results is FAILED:
        return
    values = {}
    if keys:
        raw_values = results.pop(0)
        decode = backend.client.decode
        values = {
            k: decode(v) if v is not None else None for k, v in zip(keys, raw_values, strict=True)
        }
    counts = {key: results[2 * i] for i, (key, _ttl) in enumerate(counters)}
    setattr(request, BATCH_ATTRIBUTE, Batch(values=values, counts=counts))


def _batched_values(request, keys):
    batch = getattr(request, BATCH_ATTRIBUTE, None)
    if batch is None or any(key not in batch.values for key in keys):
        return None
    return {key: batch.values[key] for key in keys if batch.values[key] is not None}
