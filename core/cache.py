"""The cache's layout: failure isolation, families and their generations, invalidation.

Pages (core.pages), signed-in users' fields (users.user_fields) and throttle counters
(core.throttling) are stored through this module and know nothing of each other.

Failure isolation. Every cache call goes through `guarded()`: a cache that is down,
unreachable or slow costs a request at most one connect/read timeout, after which a
circuit breaker skips the cache for `CACHE_BREAKER_SECONDS` and the API answers from
PostgreSQL alone. The failure is logged once per burst, and the first call after the
pause tries again, so caching resumes by itself when the cache is back.

Entries. Each cached entry (a page, a user's fields) belongs to a family ("users",
"posts", one user) whose current generation is a random token under `gen:<family>`.
A stored entry carries the token that was current *before* its rows were read; a
lookup fetches the token and the entry in one round trip and serves the entry only if
the two match. Invalidating a family
replaces its token: one write, whatever the number of cached pages (no KEYS, no SCAN),
and a reader that queried the database before a commit can store its page, but never
where a later reader will accept it. Orphaned pages expire with `CACHE_TTL`.

Invalidations are never skipped by the breaker: each one is sent, with the socket
timeouts, and one that fails is owed (`_pending_invalidations`), re-sent first thing on
this process's next cache access and when the process exits. Until it lands, and for
any value read before this process's latest invalidation of its family landed, this
process serves the family from the database. Other processes rely on the write having
landed, which a lost invalidation, a failover or a restore from an older snapshot
undoes: pages are then bounded by `CACHE_TTL`, a signed-in user's rights by their own
age bound (users.user_fields).
"""

import atexit
import logging
import secrets
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django.db import transaction
from django_redis.cache import RedisCache

logger = logging.getLogger("core.cache")


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

# Invalidations this process owes: family -> sequence number of the latest failed send.
# Until one lands, this process serves the family from the database and re-sends it
# first thing on its next cache access (and at exit), so a cache that was only
# unreachable (and kept its data) cannot serve the family's old entries here.
_pending_invalidations: dict[str, int] = {}
# family -> sequence number at which this process's latest send of it ended (landed or
# not). A value read (or batched) before that is never served: it may predate the
# invalidation. Bounded: past _SENT_LIMIT families it is emptied and `_sent_floor`
# stands for all of them, which costs in-flight reads a miss, never a stale hit.
_sent: dict[str, int] = {}
_SENT_LIMIT = 4096
_sent_floor = 0
_sequence = 0
_pending_lock = threading.Lock()


def _generation_key(family: str) -> str:
    return f"gen:{family}"


def _new_token() -> str:
    return secrets.token_hex(8)


# Generations outlive the entries stored under them; one that expires anyway costs
# misses, never staleness, because a lost token is never re-issued.
GENERATION_TTL = 24 * 3600


def _next_sequence() -> int:
    global _sequence
    _sequence += 1
    return _sequence


def _send_generations(families) -> bool:
    """Replace these families' tokens in one write, whether or not the breaker is open.

    A removal of rights written while the breaker is open must still reach the other
    workers; the socket timeouts bound what trying costs.
    """
    tokens = {_generation_key(family): _new_token() for family in families}
    try:
        cache.set_many(tokens, timeout=GENERATION_TTL)
    except Exception as exc:  # noqa: BLE001 - any cache failure, as in guarded()
        breaker.record_failure(exc)
        return False
    if breaker.allows_call():
        breaker.record_success()
    return True


def invalidate(*families: str) -> bool:
    """Drop every cached entry of these families now: one write in all.

    Invalidations this process still owes go in the same write. Returns False when the
    cache could not be reached; the families are then owed and re-sent (see
    `_pending_invalidations`).
    """
    global _sent_floor
    with _pending_lock:
        started = _next_sequence()
        sending = set(families) | set(_pending_invalidations)
    if not sending:
        return True
    landed = _send_generations(sending)
    with _pending_lock:
        ended = _next_sequence()
        if len(_sent) + len(sending) > _SENT_LIMIT:
            _sent.clear()
            _sent_floor = ended
        for family in sending:
            _sent[family] = ended
            if not landed:
                _pending_invalidations[family] = max(_pending_invalidations.get(family, 0), started)
            elif _pending_invalidations.get(family, started) < started:
                # Owed by a send that started before this one: this one covers it.
                del _pending_invalidations[family]
    return landed


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
    """Close the breaker and drop owed invalidations (a fresh process's state)."""
    global _sent_floor
    breaker.reset()
    with _pending_lock:
        _pending_invalidations.clear()
        _sent.clear()
        _sent_floor = _next_sequence()


def _retry_pending_invalidations() -> bool:
    """Re-send owed invalidations, unless the breaker is open; True when none is owed."""
    if not _pending_invalidations:
        return True
    if breaker.allows_call():
        invalidate()
    return not _pending_invalidations


def _read_mark() -> int:
    """Taken before reading: the values read are usable if `_still_current` after."""
    with _pending_lock:
        return _sequence


def _still_current(family: str, mark: int) -> bool:
    """Whether values of `family` read after `mark` may be served by this process.

    Not while the family owes an invalidation, nor when this process sent one after the
    values were read: they may predate it.
    """
    with _pending_lock:
        return family not in _pending_invalidations and _sent.get(family, _sent_floor) <= mark


def _resend_pending_at_exit() -> None:
    """Best effort: a process that exits (a shell, a recycled worker) sends what it owes.

    Costs at most the socket timeouts. What still fails is lost with the process; other
    processes then stop trusting a user's cached rights within USER_FIELDS_MAX_AGE
    (users.user_fields), and pages within CACHE_TTL.
    """
    if not _pending_invalidations:
        return
    if not invalidate():
        logger.warning(
            "exiting with cache invalidations not sent: %s",
            ", ".join(sorted(_pending_invalidations)),
        )


atexit.register(_resend_pending_at_exit)


def user_family(user_id) -> str:
    """Each user is a family of one entry: their own generation, invalidated alone."""
    return f"user:{user_id}"


# --- Current entries ----------------------------------------------------------------------


def read_current(family: str, key: str, request=None):
    """One round trip: (the entry's payload if still current, the generation to store under).

    Served from the request's batch when `fetch_batch` already read both keys, and no
    invalidation of the family was sent by this process since. The generation is None
    when the cache is unavailable or an invalidation of this family is owed or was sent
    while reading; the caller then neither trusts nor stores an entry.
    """
    if not _retry_pending_invalidations() and family in _pending_invalidations:
        return None, None
    generation_key = _generation_key(family)
    found = _batched_values(request, family, [generation_key, key])
    if found is None:
        mark = _read_mark()
        found = guarded(cache.get_many, [generation_key, key], default=FAILED)
        if found is FAILED or not _still_current(family, mark):
            return None, None
    generation = found.get(generation_key)
    if generation is None:
        # First use (or the cache was emptied): start a generation. `add` keeps a
        # token a concurrent invalidation may have just written.
        mark = _read_mark()
        fresh = _new_token()
        added = guarded(cache.add, generation_key, fresh, timeout=GENERATION_TTL, default=FAILED)
        if added is FAILED:
            return None, None
        generation = fresh if added else guarded(cache.get, generation_key)
        if not _still_current(family, mark):
            return None, None
        return None, generation
    entry = found.get(key)
    if entry is not None and entry[0] == generation:
        return entry[1], generation
    return None, generation


def store_current(key: str, generation: str, payload, ttl: int) -> None:
    """Keep an entry under the generation read before its rows were queried."""
    guarded(cache.set, key, (generation, payload), timeout=ttl)


# --- One round trip per request ----------------------------------------------------------

BATCH_ATTRIBUTE = "_api_cache_batch"


@dataclass(frozen=True)
class Batch:
    """What one request read and counted in its single round trip to Redis."""

    values: dict
    counts: dict
    # The read mark taken before the round trip (see `_still_current`).
    mark: int = 0


def is_redis() -> bool:
    return isinstance(caches["default"], RedisCache)


def _queue_count(client, pipeline, key: str, ttl: int, amount: int = 1) -> None:
    raw = client.make_key(key)
    pipeline.incr(raw, amount)
    pipeline.expire(raw, ttl, nx=True)


def pipelined_count(key: str, ttl: int, amount: int = 1) -> int:
    """Bump a counter that expires `ttl` seconds after its first bump: one round trip."""
    client = caches["default"].client
    pipeline = client.get_client(write=True).pipeline(transaction=False)
    _queue_count(client, pipeline, key, ttl, amount)
    return pipeline.execute()[0]


def fetch_batch(request, *, families_and_keys=(), counters=()) -> None:
    """Read entries (with their families' generations) and count throttle hits at once.

    A view calls this before its throttles run (core.pages.CachedResponseMixin) with
    what it will need (`families_and_keys`: (family, key) pairs; `counters`: (key, ttl)
    pairs).
    The results wait on the request for `read_current` and `throttle_hit`, which
    apply exactly the rules they apply to a value fetched alone. Only with Redis (one
    pipeline); with any other cache, or when the pipeline fails, nothing is stored and
    every reader asks for itself.
    """
    if not is_redis():
        return
    backend = caches["default"]
    # Invalidations still owed are sent first, and a family that still owes one is not
    # read: a generation read before its invalidation lands must never be trusted.
    _retry_pending_invalidations()
    mark = _read_mark()
    keys = []
    for family, key in families_and_keys:
        if family not in _pending_invalidations:
            keys += [_generation_key(family), key]

    def run_pipeline():
        client = backend.client
        pipeline = client.get_client(write=True).pipeline(transaction=False)
        if keys:
            pipeline.mget([client.make_key(key) for key in keys])
        for key, ttl in counters:
            _queue_count(client, pipeline, key, ttl)
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
    setattr(request, BATCH_ATTRIBUTE, Batch(values=values, counts=counts, mark=mark))


def batched_count(request, key):
    """The count the request's batch already took for this counter, or None."""
    batch = getattr(request, BATCH_ATTRIBUTE, None)
    return batch.counts.get(key) if batch is not None else None


def _batched_values(request, family, keys):
    """The batch's values for these keys of `family`, or None: read them yourself."""
    batch = getattr(request, BATCH_ATTRIBUTE, None)
    if batch is None or any(key not in batch.values for key in keys):
        return None
    if not _still_current(family, batch.mark):
        return None
    return {key: batch.values[key] for key in keys if batch.values[key] is not None}
