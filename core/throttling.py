"""Rate limits as DRF throttles, counted in the shared cache with O(1) cost per check."""

import time

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from core import cache as api_cache


def _incr_or_start(key: str, ttl: int) -> int:
    if api_cache.is_redis():
        return api_cache.pipelined_count(key, ttl)
    try:
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
    free when the request's batch (core.cache.fetch_batch) already counted it.
    """
    now = time.time()
    key = throttle_key(scope, ident, window_seconds, now)
    count = api_cache.batched_count(request, key)
    if count is None:
        count = api_cache.guarded(_incr_or_start, key, window_seconds + 1)
    if count is None:
        return None
    window_end = (int(now // window_seconds) + 1) * window_seconds
    return count, max(1, int(window_end - now + 0.999))


class FixedWindowRateThrottle(SimpleRateThrottle):
    """DRF's rate syntax and client identification, with a fixed-window counter.

    DRF's stock `SimpleRateThrottle` stores a list of timestamps per client, which grows
    with the rate and is rewritten on every request; here each check is one atomic
    increment of a counter that expires with its window. The rate is read on every
    check, so settings changed at runtime (and in tests) take effect at once. While the
    cache is unavailable the throttle lets requests through (it fails open).
    """

    scope: str

    def __init__(self):
        self._wait = None

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def get_cache_key(self, request, view):
        raise NotImplementedError

    def allow_request(self, request, view):
        rate = self.get_rate()
        if rate is None:
            return True
        allowed, duration = self.parse_rate(rate)
        ident = self.get_cache_key(request, view)
        if ident is None:
            return True
        hit = throttle_hit(self.scope, ident, duration, request._request)
        if hit is None:
            return True
        count, self._wait = hit
        return count <= allowed

    def wait(self):
        return self._wait

    def counter_for(self, request, view):
        """(key, ttl) of the counter `allow_request` will bump for this request, or None."""
        rate = self.get_rate()
        ident = self.get_cache_key(request, view) if rate is not None else None
        if ident is None:
            return None
        _allowed, duration = self.parse_rate(rate)
        return throttle_key(self.scope, ident, duration, time.time()), duration + 1


class AuthEndpointThrottle(FixedWindowRateThrottle):
    """Sign-up and sign-in attempts per client address, whoever the caller is.

    The caller is deliberately not consulted: a token must not buy one account the
    right to create accounts (or guess passwords) at the signed-in rate.
    """

    scope = "auth"

    def get_cache_key(self, request, view):
        return self.get_ident(request)


class SignedInUserThrottle(FixedWindowRateThrottle):
    """Every request of a signed-in caller, per user."""

    scope = "user"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return str(request.user.pk)
        return None
