"""The one place that talks to the cache: failure isolation first, then what is stored.

Every cache call goes through `guarded()`: a cache that is down, unreachable or slow
costs a request at most one connect/read timeout, after which a circuit breaker skips
the cache for `CACHE_BREAKER_SECONDS` and the API answers from PostgreSQL alone. The
failure is logged once per burst, and the first call after the pause tries again, so
caching resumes by itself when the cache is back.
"""

import logging
import threading
import time

from django.conf import settings
from django.core.cache import cache

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


def _incr_or_start(key: str, ttl: int) -> int:
    try:
        # On Redis this is one round trip (django-redis runs EXISTS+INCRBY as a script).
        return cache.incr(key)
    except ValueError:
        # First hit of the window; `add` loses to a concurrent first hit, then incr wins.
        if cache.add(key, 1, timeout=ttl):
            return 1
        return cache.incr(key)


def throttle_hit(scope: str, ident: str, window_seconds: int) -> tuple[int, int] | None:
    """Count one request in the caller's current fixed window.

    Returns (requests so far in this window, seconds until it ends), or None when the
    cache is unavailable (the caller then lets the request through). O(1) at any rate.
    """
    now = time.time()
    window = int(now // window_seconds)
    key = f"throttle:{scope}:{ident}:{window}"
    count = guarded(_incr_or_start, key, window_seconds + 1)
    if count is None:
        return None
    return count, max(1, int((window + 1) * window_seconds - now + 0.999))
