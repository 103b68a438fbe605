from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from chatbot_project import health
from chatbot_project.admin_site import configure_admin
from tenants.docs import DocsView, sidecar_asset

configure_admin()

api_v1 = [
    path("health", health.health, name="health"),
    path("health/ready", health.ready, name="health-ready"),
    path(
        "schema",
        SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]),
        name="schema",
    ),
    path("", include("tenants.urls")),
    path("", include("apikeys.urls")),
    path("", include("bots.urls")),
    path("", include("datasets.urls")),
    path("", include("conversations.urls")),
    path("", include("audit.urls")),
]

urlpatterns = [
    path("v1/", include(api_v1)),
    path(
        "docs",
        DocsView.as_view(url_name="schema"),
        name="docs",
    ),
    path("admin/", admin.site.urls),
    # Swagger UI assets for /docs, served whatever DEBUG says (tenants/docs.py).
    path("static/drf_spectacular_sidecar/<path:name>", sidecar_asset, name="docs-asset"),
    path("", include("conversations.web_urls")),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()

handler400 = "chatbot_project.errors.handler400"
handler403 = "chatbot_project.errors.handler403"
handler404 = "chatbot_project.errors.handler404"
handler500 = "chatbot_project.errors.handler500"
