"""The browsable API's HTML pages, with the Content-Security-Policy they satisfy."""

from django.conf import settings
from django.utils.csp import CSP, build_policy
from rest_framework import renderers


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's browsable API under BROWSABLE_API_CSP instead of the site's SECURE_CSP.

    DRF's templates set a few `style="…"` attributes, which the site's policy blocks;
    the page's own policy allows inline style attributes and nothing else inline.
    Django's CSP middleware leaves a policy a response already carries in place.
    """

    def get_context(self, data, accepted_media_type, renderer_context):
        context = super().get_context(data, accepted_media_type, renderer_context)
        # Pygments' CSS, inlined in a <style> element, serves Markdown code highlighting
        # in view descriptions; without Markdown installed it styles nothing.
        context["code_style"] = None
        return context

    def render(self, data, accepted_media_type=None, renderer_context=None):
        html = super().render(data, accepted_media_type, renderer_context)
        response = (renderer_context or {}).get("response")
        if response is not None:
            response.headers[str(CSP.HEADER_ENFORCE)] = build_policy(settings.BROWSABLE_API_CSP)
        return html
