"""Every error the API returns is JSON: DRF's handler plus the cases it leaves to Django."""

import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import JsonResponse
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger("core.errors")

INTERNAL_ERROR = {"detail": "Internal server error."}
UNAVAILABLE = {"detail": "The database is unavailable; try again shortly."}
TOO_LARGE = {"detail": "Request body too large."}
BAD_REQUEST = {"detail": "Bad request."}


def api_exception_handler(exc, context):
    """DRF's handler, then JSON 503/500 for what it does not know, never a traceback."""
    response = exception_handler(exc, context)
    if response is not None:
        return response
    if isinstance(exc, RequestDataTooBig):
        # Django refuses to read a body over DATA_UPLOAD_MAX_MEMORY_SIZE (by its
        # Content-Length, before reading it); that is the client's doing, not a 500.
        return Response(TOO_LARGE, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):
        # Django's verdict on a hostile request (for example more query parameters than
        # DATA_UPLOAD_MAX_NUMBER_FIELDS): the 400 Django itself gives outside a view.
        logger.warning("suspicious request: %s", exc.__class__.__name__)
        return Response(BAD_REQUEST, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, (OperationalError, InterfaceError)):
        # Connection-level failures (PostgreSQL down or restarting) are temporary.
        logger.error("database unavailable: %s", exc.__class__.__name__)
        return Response(UNAVAILABLE, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    if isinstance(exc, DatabaseError):
        logger.exception("database error")
    else:
        logger.exception("unhandled error")
    return Response(INTERNAL_ERROR, status=status.HTTP_500_INTERNAL_SERVER_ERROR)


def bad_request(request, exception=None):
    """Django's 400 handler (for example a disallowed Host header), as JSON."""
    return JsonResponse(BAD_REQUEST, status=400)


def permission_denied(request, exception=None):
    """Django's 403 handler, as JSON."""
    return JsonResponse(
        {"detail": "You do not have permission to perform this action."}, status=403
    )


def page_not_found(request, exception=None):
    """Django's 404 handler for paths no route matches, as JSON."""
    return JsonResponse({"detail": "Not found."}, status=404)


def server_error(request):
    """Django's 500 handler for errors outside DRF views, as JSON."""
    return JsonResponse(INTERNAL_ERROR, status=500)
