"""Bearer-token API requests skip the middleware that only browser sessions use.

A request that carries `Authorization: Bearer …` to a DRF view that reads bearer
tokens first is authenticated by the token alone: simplejwt either accepts the token
or answers 401, and never falls back to the session. Sessions, CSRF (DRF views are
exempt, and token authentication does not use it), Django's `request.user` and
messages then have nothing to do, yet they cost about a tenth of a cached page's time
(measured: docs/PERFORMANCE.md). This middleware, placed just below the
ones that shape every response (request log, security headers, Content-Length,
X-Frame-Options), resolves such a request and calls its view directly.

The view is the same DRF view with the same dispatch: authentication, permissions,
throttling, content negotiation, ETags and headers run through their one code path;
only the inert middleware is skipped. Any other request goes down the whole stack.
Middleware below this one must not need `process_view`, `process_exception` or
`process_template_response` for such requests: they are not called for them.
"""

from django.core.exceptions import MiddlewareNotUsed
from django.db import connections
from django.urls import Resolver404, resolve
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings as jwt_settings


def _token_authenticator(view):
    """The view's first authenticator when it is simplejwt's (or a subclass), else None.

    Read as DRF will: the route's own `authentication_classes` (`as_view(...)`, an
    `@action`'s) before the class's. A view that overrides `get_authenticators()` is
    not seen through; none here does.
    """
    view_class = getattr(view, "cls", None)
    authenticators = getattr(view, "initkwargs", {}).get(
        "authentication_classes", getattr(view_class, "authentication_classes", ())
    )
    if authenticators and issubclass(authenticators[0], JWTAuthentication):
        return authenticators[0]()
    return None


def _bears_token(authenticator, request) -> bool:
    """Whether `authenticator` will decide this request by its token alone.

    Asked of simplejwt's own header parsing: a header it reads as a token (valid or
    not: an invalid one is its 401) never reaches the session authenticator.
    """
    header = authenticator.get_header(request)
    if header is None:
        return False
    try:
        return authenticator.get_raw_token(header) is not None
    except AuthenticationFailed:
        return True


class BearerRequestMiddleware:
    """Hand a bearer-token request for a token-first DRF view straight to that view."""

    def __init__(self, get_response):
        # Django wraps views in a transaction for ATOMIC_REQUESTS; calling the view from
        # here would skip that, so with it on this middleware takes itself out.
        if any(connections.settings[alias].get("ATOMIC_REQUESTS") for alias in connections):
            raise MiddlewareNotUsed("ATOMIC_REQUESTS is on")
        self.get_response = get_response

    def __call__(self, request):
        if jwt_settings.AUTH_HEADER_NAME not in request.META:
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        authenticator = _token_authenticator(match.func)
        if authenticator is None or not _bears_token(authenticator, request):
            return self.get_response(request)
        request.resolver_match = match
        response = match.func(request, *match.args, **match.kwargs)
        # As Django's handler does for a view's template response (DRF's Response is one).
        return response.render() if callable(getattr(response, "render", None)) else response
