"""The plain-Django floor: one JsonResponse view, no middleware, no database.

Served under the project's own gunicorn.conf.py by bench/run.py so its figure is
measured in the same run and under the same settings as the API:
    gunicorn -c gunicorn.conf.py bench.floor_app:application
"""

import django
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import JsonResponse
from django.urls import path

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="floor-only",  # noqa: S106 - no secrets served here
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        LOGGING_CONFIG=None,
    )
    django.setup()


def hello(request):
    return JsonResponse({"hello": "world"})


urlpatterns = [path("", hello)]
application = get_wsgi_application()
