"""The plain-Django floor and the reference points the issue quotes beside it.

Served under the project's own gunicorn.conf.py by bench/run.py, so every figure is
measured in the same run and under the same settings as the API:
    gunicorn -c gunicorn.conf.py bench.floor_app:application

No middleware, no authentication, no database:
- `/`: a Django view returning a JsonResponse (the floor);
- `/cache`: a Django view returning one django-redis `cache.get`;
- `/drf`: a DRF APIView returning a Response;
- `/drf-cache`: a DRF APIView returning one `cache.get`: the least any cached page
  served by DRF with one Redis round trip can cost, before authentication, throttling,
  middleware or ETags.
"""

import os

import django
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.urls import path

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="floor-only",  # noqa: S106 - no secrets served here
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
        LOGGING_CONFIG=None,
        CACHES={
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/3"),
            }
        },
        REST_FRAMEWORK={
            "DEFAULT_AUTHENTICATION_CLASSES": [],
            "DEFAULT_PERMISSION_CLASSES": [],
            "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
            "UNAUTHENTICATED_USER": None,
        },
    )
    django.setup()

from django.core.cache import cache  # noqa: E402 - after settings
from django.core.wsgi import get_wsgi_application  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

PAGE_KEY = "bench:floor:page"
PAGE = b'{"hello": "world"}'


def hello(request):
    return JsonResponse({"hello": "world"})


def cached(request):
    return HttpResponse(cache.get(PAGE_KEY), content_type="application/json")


class Hello(APIView):
    def get(self, request):
        return Response({"hello": "world"})


class Cached(APIView):
    def get(self, request):
        return HttpResponse(cache.get(PAGE_KEY), content_type="application/json")


urlpatterns = [
    path("", hello),
    path("cache", cached),
    path("drf", Hello.as_view()),
    path("drf-cache", Cached.as_view()),
]
cache.set(PAGE_KEY, PAGE, timeout=None)
application = get_wsgi_application()
