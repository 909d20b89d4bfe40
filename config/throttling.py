"""Rate limits as DRF throttles, counted in the shared cache with O(1) cost per check."""

import time

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from config import cache as api_cache


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
        hit = api_cache.throttle_hit(self.scope, ident, duration, request)
        if hit is None:
            return True
        count, self._wait = hit
        return count <= allowed

    def wait(self):
        return self._wait

    def counter_for_user(self, user_id):
        """(key, ttl) of the counter this throttle will bump for a signed-in user, or None."""
        return None


class AuthEndpointThrottle(FixedWindowRateThrottle):
    """Sign-up and sign-in attempts of anonymous callers, per client address."""

    scope = "auth"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.get_ident(request)


class SignedInUserThrottle(FixedWindowRateThrottle):
    """Every request of a signed-in caller, per user."""

    scope = "user"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return str(request.user.pk)
        return None

    def counter_for_user(self, user_id):
        rate = self.get_rate()
        if rate is None:
            return None
        _allowed, duration = self.parse_rate(rate)
        key = api_cache.throttle_key(self.scope, str(user_id), duration, time.time())
        return key, duration + 1
