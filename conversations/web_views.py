"""Server-rendered pages: the index, the chat playground and the widget demo.

The pages carry no data of their own: the playground talks to ``/v1/`` with an API key the user
pastes (kept in sessionStorage), and the demo page embeds the widget with the seeded demo bot's
browser key. Every page is served with a strict Content-Security-Policy (no inline script; the
configuration rides in ``data-`` attributes), and the widget's static files are served by the app
itself so that one ``<script>`` tag is all an embedding site needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_safe
from django.views.static import serve

from chatbot_project.csp import content_security_policy

DEMO_BOT_SLUG = "demo"
WIDGET_ASSETS_DIR = Path(settings.BASE_DIR) / "static" / "chatbot"
WIDGET_ASSETS = frozenset(
    {
        "widget.js",
        "widget.css",
        "playground.js",
        "playground_messages.js",
        "playground_chat.js",
        "playground.css",
        "site.css",
    }
)

CONTENT_SECURITY_POLICY = content_security_policy()


def _secure(response: HttpResponse) -> HttpResponse:
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response["Cache-Control"] = "no-store"
    return response


def demo_key_files() -> list[Path]:
    """Where the demo's key may be, best first: a browser key (chat only) in ``demo_widget_key``,
    else the key ``seed_demo`` writes to ``demo_api_key`` (under ``EMBEDDED_DATA_DIR``)."""
    from chatbot_project import embedded

    return [embedded.DATA_DIR / "demo_widget_key", embedded.DATA_DIR / "demo_api_key"]


def shown_path(path: Path) -> str:
    """A key file as the public /demo/ page names it: the full path on a developer's machine
    (DEBUG), else only its name, so that the page does not tell every visitor where the server
    is installed (its operator knows the data directory, ``EMBEDDED_DATA_DIR``)."""
    return str(path) if settings.DEBUG else f"{path.name} (in the data directory)"


def demo_key(origin: str = "") -> tuple[str | None, str]:
    """(key to embed, note for the page). The page is public, so a key that can do more than
    chat (``seed_demo``'s key also reads every conversation of the demo tenant) is only put on
    it with DEBUG on, i.e. on a developer's machine. A key that does not allow ``origin`` (the
    page's own) is embedded with a note saying why the widget will be refused. Notes name key
    files by ``shown_path``."""
    from apikeys.authentication import context_for_key
    from apikeys.cors import origin_allowed

    problem = ""
    for path in demo_key_files():
        try:
            raw = path.read_text().strip()
        except (FileNotFoundError, PermissionError, IsADirectoryError):
            continue
        if not raw:
            continue
        context = context_for_key(raw)
        if context is None:
            problem = (
                f"The key in {shown_path(path)} no longer works; run `manage.py seed_demo` again."
            )
            continue
        if context.permissions <= {"chat"}:
            if origin and not origin_allowed(context, origin):
                return raw, (
                    f"The demo's browser key (in {shown_path(path)}) allows "
                    f"{', '.join(context.allowed_origins)}, not this page's origin {origin}, so "
                    "the widget will be refused here. Open the page at one of those addresses, "
                    "or run `manage.py seed_demo` again with PORT set to the port you serve on."
                )
            return raw, ""
        if settings.DEBUG:
            return raw, (
                "This page uses the demo key, which can also read the demo tenant's data: fine "
                "on your machine (DEBUG is on). On a public site use a browser key that has only "
                "the chat permission, is limited to the bot and lists the site's origin."
            )
        problem = (
            f"The key in {shown_path(path)} can do more than chat, so it is not put on a public "
            "page while DEBUG is off. Save a browser key (chat only, limited to the demo bot, "
            f"with this site's origin allowed) to {shown_path(demo_key_files()[0])}."
        )
    return None, problem


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    return _secure(render(request, "web/index.html", {"debug": settings.DEBUG}))


def staff_memberships(user: Any) -> list[Any]:
    """The active tenants of a signed-in user who passed OTP (the admin's login), else []."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    is_verified = getattr(user, "is_verified", None)
    if not (callable(is_verified) and is_verified()):
        return []
    from tenants.models import Membership

    return list(
        Membership.objects.select_related("tenant")
        .filter(user=user, tenant__is_active=True)
        .order_by("tenant__slug")
    )


def session_credential(request: HttpRequest) -> dict[str, Any] | None:
    """For a verified staff session: a short-lived JWT access token (SIMPLE_JWT's lifetime, 15
    minutes by default) that the playground sends as its bearer credential, with X-Tenant.
    Signing out of the admin ends it (``tenants.jwt_sessions``)."""
    memberships = staff_memberships(request.user)
    if not memberships:
        return None
    from tenants.jwt_sessions import access_token_for_session

    token = access_token_for_session(request)
    return {
        "token": str(token),
        "expires_at": int(token["exp"]),
        "user": request.user.get_username(),
        "tenants": [
            {"slug": m.tenant.slug, "name": m.tenant.name, "role": m.role} for m in memberships
        ],
    }


@require_safe
def playground(request: HttpRequest) -> HttpResponse:
    context = {"session": session_credential(request)}
    return _secure(render(request, "web/playground.html", context))


@require_safe
def demo(request: HttpRequest) -> HttpResponse:
    origin = request.build_absolute_uri("/").rstrip("/")
    key, note = demo_key(origin)
    context = {
        "demo_key": key,
        "note": note,
        "bot_slug": DEMO_BOT_SLUG,
        "key_file": shown_path(demo_key_files()[-1]),
        "origin": origin,
    }
    return _secure(render(request, "web/demo.html", context, status=200 if key else 503))


def add_slash(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(request.path + "/")


@require_safe
def widget_asset(request: HttpRequest, name: str) -> HttpResponse:
    """The widget's own files, whatever DEBUG says, so embedding needs no separate static host."""
    if name not in WIDGET_ASSETS:
        raise Http404("No such file.")
    response = serve(request, name, document_root=str(WIDGET_ASSETS_DIR))
    response["Cache-Control"] = "public, max-age=300"
    # Third-party pages load widget.js/widget.css cross-origin (also under COEP).
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
