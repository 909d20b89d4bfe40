"""Liveness and readiness probes for orchestrators and load balancers."""

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger("core.health")

# Checks run in their own threads so each has a hard deadline, whatever the driver does.
_checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")


@never_cache
def healthz(request):
    """200 while the process can answer; touches neither the database nor the cache."""
    return JsonResponse({"status": "ok"})


def _database_answers():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    finally:
        # The check runs in a pool thread: do not keep its connection around.
        connection.close()


def _cache_answers():
    probe = "readyz:probe"
    cache.set(probe, "1", timeout=10)
    return cache.get(probe) == "1"


def _run_check(check) -> str:
    future = _checks.submit(check)
    try:
        return "ok" if future.result(timeout=settings.READINESS_TIMEOUT) else "failed"
    except FutureTimeout:
        return "timeout"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        logger.warning("readiness check %s failed: %s", check.__name__, exc.__class__.__name__)
        return "failed"


@never_cache
def readyz(request):
    """200 while PostgreSQL answers in time, else 503; each check named with its result.

    The API serves every request from PostgreSQL when the cache fails (core.cache), so
    a cache failure alone is `degraded`, still 200: an orchestrator acting on readiness
    must not turn a cache outage into an API outage.
    """
    checks = {"database": _run_check(_database_answers), "cache": _run_check(_cache_answers)}
    if checks["database"] != "ok":
        status, code = "unavailable", 503
    elif checks["cache"] != "ok":
        status, code = "degraded", 200
    else:
        status, code = "ready", 200
    return JsonResponse({"status": status, "checks": checks}, status=code)
