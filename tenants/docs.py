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

SIDECAR_DIR = Path(drf_spectacular_sidecar.__file__).parent / "static" / "drf_spectacular_sidecar"
ALLOWED_DIRS = ("swagger-ui-dist/", "redoc/")


@require_safe
def sidecar_asset(request: HttpRequest, name: str) -> HttpResponse:
    if not name.startswith(ALLOWED_DIRS) or ".." in name.split("/"):
        raise Http404("No such file.")
    response = serve(request, name, document_root=str(SIDECAR_DIR))
    response["Cache-Control"] = "public, max-age=86400"
    return response
