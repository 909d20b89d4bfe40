"""Rate limits as DRF throttles, counted in the shared cache with O(1) cost per check.

Also the pieces that sign-in paths outside DRF's throttle hooks use: the per-address
count for a Django view (the admin's login) and `FailedAttemptsThrottle`, which counts
only the attempts that fail.
"""

import contextlib
import hashlib
import re
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
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


def _uncount(key: str, ttl: int) -> None:
    if api_cache.is_redis():
        # Counting down with the same expiry rule: a window that ended meanwhile leaves a
        # key that expires like any other, never one without a lifetime.
        api_cache.pipelined_count(key, ttl, amount=-1)
        return
    # A missing key (ValueError): the window ended and its count went with it.
    with contextlib.suppress(ValueError):
        cache.decr(key)


def throttle_key(scope: str, ident: str, window_seconds: int, now: float) -> str:
    return f"throttle:{scope}:{ident}:{int(now // window_seconds)}"


# DRF reads a period by its first letter (`min`, `minute`, `hour`, `hr`); so does this,
# after an optional multiple.
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])[a-z]*\s*$")
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """(requests allowed, window in seconds) of a rate: DRF's `10/min`, or `10/15min`."""
    match = _RATE.match(rate)
    if match is None:
        raise ImproperlyConfigured(f"{rate!r} is not a rate like '10/min' or '10/15min'")
    count, multiple, period = match.groups()
    return int(count), int(multiple or 1) * _PERIODS[period[0]]


@dataclass(frozen=True)
class Verdict:
    """Whether one counted attempt may go on; `wait` says for how long it may not."""

    allowed: bool
    wait: int | None = None
    # False when the cache could not count it: a fail-open caller lets it through (as
    # `allowed` says), a fail-closed one refuses it.
    counted: bool = True


def throttle_hit(
    scope: str, ident: str, window_seconds: int, request=None, now: float | None = None
) -> tuple[int, int] | None:
    """Count one request in the caller's current fixed window.

    Returns (requests so far in this window, seconds until it ends), or None when the
    cache is unavailable (the caller then lets the request through). O(1) at any rate;
    free when the request's batch (core.cache.fetch_batch) already counted it.
    """
    now = time.time() if now is None else now
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

    def parse_rate(self, rate):
        return parse_rate(rate)

    def get_cache_key(self, request, view):
        raise NotImplementedError

    def allow_request(self, request, view):
        if self.get_rate() is None:
            return True
        verdict = self.count(self.get_cache_key(request, view), request._request)
        self._wait = verdict.wait
        return verdict.allowed

    def count(self, ident: str | None, django_request=None) -> Verdict:
        """Count one request of `ident` (None: not limited) in its current window."""
        rate = self.get_rate()
        if rate is None or ident is None:
            return Verdict(allowed=True)
        allowed, duration = self.parse_rate(rate)
        hit = throttle_hit(self.scope, ident, duration, django_request)
        if hit is None:
            return Verdict(allowed=True, counted=False)
        count, wait = hit
        return Verdict(allowed=count <= allowed, wait=wait)

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

    def count_address(self, django_request) -> Verdict:
        """Count one attempt of this client address from a plain Django view.

        The admin's login is not a DRF view; it shares this budget (and the rules for
        the client's address, `API_TRUSTED_PROXIES` included) with the API's sign-in.
        """
        return self.count(self.get_ident(django_request), django_request)


class SignedInUserThrottle(FixedWindowRateThrottle):
    """Every request of a signed-in caller, per user."""

    scope = "user"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return str(request.user.pk)
        return None


@dataclass
class Attempt:
    """One attempt counted by a FailedAttemptsThrottle, to be settled by its caller."""

    verdict: Verdict
    _counter: tuple[str, int] | None = None

    @property
    def allowed(self) -> bool:
        return self.verdict.allowed

    def succeeded(self) -> None:
        """Take this attempt back out of the count: only failed attempts count."""
        if self._counter is not None:
            api_cache.guarded(_uncount, *self._counter)
            self._counter = None


class FailedAttemptsThrottle:
    """At most N failed attempts per subject (an account, say) in a fixed window.

    Unlike the throttles above, it does not care where attempts come from: twenty
    addresses guessing one password share one count. And it counts only failures, so
    that the subject's own successful attempts never use up its budget: each attempt
    is counted *before* it is checked and taken back when it succeeds. Counting first
    bounds the number of checks, whatever the concurrency (N parallel guesses cannot all
    read "N-1 so far"); an attempt refused over the limit is not checked at all.

    The rate is read from DRF's `DEFAULT_THROTTLE_RATES[scope]` on each attempt (None
    turns the limit off). Subjects are hashed into fixed-length keys, whatever their
    length or characters. While the cache is unavailable attempts are let through, uncounted;
    `Attempt.verdict.counted` tells a caller that would rather refuse.
    """

    def __init__(self, scope: str):
        self.scope = scope

    def attempt(self, subject: str) -> Attempt:
        """Count one attempt for `subject`; refused (with `wait`) past the limit."""
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        if rate is None:
            return Attempt(Verdict(allowed=True))
        allowed, window = parse_rate(rate)
        ident = hashlib.sha256(subject.encode()).hexdigest()[:32]
        now = time.time()
        hit = throttle_hit(self.scope, ident, window, now=now)
        if hit is None:
            return Attempt(Verdict(allowed=True, counted=False))
        count, wait = hit
        if count > allowed:
            return Attempt(Verdict(allowed=False, wait=wait))
        return Attempt(
            Verdict(allowed=True), (throttle_key(self.scope, ident, window, now), window + 1)
        )
