"""Rate parsing and FailedAttemptsThrottle, directly (the endpoints' limits: users/tests)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.throttling import FailedAttemptsThrottle, parse_rate


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [
        ("10/min", (10, 60)),
        ("5000/s", (5000, 1)),
        ("100/hour", (100, 3600)),
        ("3/day", (3, 86400)),
        ("10/15min", (10, 900)),
        ("10/15m", (10, 900)),
        ("2/10s", (2, 10)),
    ],
)
def test_parse_rate_takes_drf_rates_and_a_multiple_of_the_period(rate, parsed):
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["10", "ten/min", "10/", "10/15", "10/week"])
def test_parse_rate_refuses_what_it_cannot_read(rate):
    with pytest.raises(ImproperlyConfigured):
        parse_rate(rate)


@pytest.fixture
def limit(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "failures": "3/15min",
        },
    }
    return FailedAttemptsThrottle("failures")


class TestFailedAttemptsThrottle:
    def test_failures_count_and_past_the_limit_attempts_are_refused(self, limit):
        assert [limit.attempt("ann").allowed for _ in range(4)] == [True, True, True, False]
        refused = limit.attempt("ann")
        assert not refused.allowed
        assert 1 <= refused.verdict.wait <= 900
        assert limit.attempt("bob").allowed  # another subject, another count

    def test_successes_do_not_count(self, limit):
        for _ in range(10):
            limit.attempt("ann").succeeded()
        assert [limit.attempt("ann").allowed for _ in range(4)] == [True, True, True, False]

    def test_a_success_after_failures_takes_back_only_itself(self, limit):
        limit.attempt("ann")
        limit.attempt("ann")
        limit.attempt("ann").succeeded()
        assert [limit.attempt("ann").allowed for _ in range(2)] == [True, False]

    def test_concurrent_attempts_cannot_overshoot(self, limit):
        start = threading.Barrier(12)

        def attempt(_):
            start.wait(timeout=10)
            return limit.attempt("ann").allowed

        with ThreadPoolExecutor(max_workers=12) as pool:
            assert sum(pool.map(attempt, range(12))) == 3

    def test_no_rate_means_no_limit(self, limit, settings):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"failures": None},
        }
        assert all(limit.attempt("ann").allowed for _ in range(10))

    def test_without_the_cache_attempts_pass_uncounted(self, limit, private_redis):
        private_redis.kill()
        attempt = limit.attempt("ann")
        assert attempt.allowed
        assert not attempt.verdict.counted
        attempt.succeeded()  # nothing to take back, and no error
