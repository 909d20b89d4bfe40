"""Root URLs: probes, the admin, the API docs, and the API at `/api/v1/` and unversioned."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csp import csp_override
from drf_spectacular.views import (
    SpectacularJSONAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
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
    # Swagger UI needs no inline script or style (settings.SWAGGER_UI_CSP): the split
    # view serves its start-up script as a file of its own, and core's template moves
    # the page's inline style to a file.
    re_path(
        r"^docs/?$",
        csp_override(settings.SWAGGER_UI_CSP)(
            SpectacularSwaggerSplitView.as_view(
                url_name="schema", template_name="docs/swagger_ui.html"
            )
        ),
        name="docs",
    ),
    # ReDoc needs inline styles and a blob worker (settings.REDOC_CSP); core's template
    # drops the Google Fonts drf-spectacular's links.
    re_path(
        r"^redoc/?$",
        csp_override(settings.REDOC_CSP)(
            SpectacularRedocView.as_view(url_name="schema", template_name="docs/redoc.html")
        ),
        name="redoc",
    ),
    # A client pins a version here; the unversioned paths are the current version.
    re_path(r"^api/(?P<version>v1)/", include(api_patterns)),
    path("", include(api_patterns)),
]

handler400 = "core.exceptions.bad_request"
handler403 = "core.exceptions.permission_denied"
handler404 = "core.exceptions.page_not_found"
handler500 = "core.exceptions.server_error"
