"""Request ids and the one structured log line each request leaves (the access log)."""

import contextvars
import logging
import re
import time
import uuid

logger = logging.getLogger("core.request")

REQUEST_ID_HEADER = "X-Request-ID"
# Accepted from clients and proxies as is; anything longer or stranger is replaced,
# so a header cannot inject into logs or grow them without bound.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")

current_request_id = contextvars.ContextVar("request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Stamp every log record with the id of the request being served (or None)."""

    def filter(self, record):
        record.request_id = current_request_id.get()
        return True


def _request_id_of(request) -> str:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    return incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


class RequestLogMiddleware:
    """Take or make the request id, echo it, and log one JSON line when done."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = _request_id_of(request)
        request.request_id = request_id
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            user = getattr(request, "user", None)
            logger.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "user_id": user.pk if user is not None and user.is_authenticated else None,
                },
            )
            return response
        finally:
            current_request_id.reset(token)
