"""Fixtures for the project-wide tests."""

import pytest

from .servers import PrivateRedis, free_port, point_cache_at


@pytest.fixture
def private_redis(settings):
    server = PrivateRedis(free_port())
    server.start()
    point_cache_at(settings, server.port)
    yield server
    if server.process.poll() is None:
        server.thaw()
        server.kill()
