"""Root URLs: probes, the admin, the API docs, and the API at `/api/v1/` and unversioned."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularJSONAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from core import health

api_patterns = [
    path("", include("users.urls")),
    path("", include("posts.urls")),
]

urlpatterns = [
    re_path(r"^healthz/?$", health.healthz, name="healthz"),
    re_path(r"^readyz/?$", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    re_path(r"^openapi\.json$", SpectacularJSONAPIView.as_view(), name="schema"),
    re_path(r"^docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    re_path(r"^redoc/?$", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    # A client pins a version here; the unversioned paths are the current version.
    re_path(r"^api/(?P<version>v1)/", include(api_patterns)),
    path("", include(api_patterns)),
]

handler400 = "core.exceptions.bad_request"
handler403 = "core.exceptions.permission_denied"
handler404 = "core.exceptions.page_not_found"
handler500 = "core.exceptions.server_error"
