"""Swagger UI's files (drf-spectacular-sidecar) served by the app whatever DEBUG says.

/docs must render on a deployment with no separate static host and no CDN access; the files are
the sidecar package's own, served read-only from its directory.
"""

from __future__ import annotations

from pathlib import Path

import drf_spectacular_sidecar
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe
from django.views.static import serve
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView

from chatbot_project.csp import content_security_policy

SIDECAR_DIR = Path(drf_spectacular_sidecar.__file__).parent / "static" / "drf_spectacular_sidecar"
ALLOWED_DIRS = ("swagger-ui-dist/", "redoc/")


@require_safe
def sidecar_asset(request: HttpRequest, name: str) -> HttpResponse:
    if not name.startswith(ALLOWED_DIRS) or ".." in name.split("/"):
        raise Http404("No such file.")
    response = serve(request, name, document_root=str(SIDECAR_DIR))
    response["Cache-Control"] = "public, max-age=86400"
    return response


# /docs's own policy: scripts only from this origin (the split view below serves Swagger UI's
# init script as a file, not inline); inline styles stay allowed because Swagger UI renders
# style attributes and its page has one <style> block.
DOCS_CONTENT_SECURITY_POLICY = content_security_policy(style_src="'self' 'unsafe-inline'")


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI at /docs under a Content-Security-Policy, and without a CSRF cookie.

    The API authenticates with bearer keys and JWTs only (no sessions), so the CSRF token
    drf-spectacular's init script embeds is never checked; rendering it would only set a
    ``csrftoken`` cookie on every visitor. It is blanked instead.
    """

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if isinstance(response.data, dict):
            response.data["csrf_token"] = ""  # the template context's value wins (no cookie)
        response["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
        return response
