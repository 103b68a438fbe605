"""Security headers of what this app serves to browsers: the Content-Security-Policy of its
pages (playground, demo, /docs), the Permissions-Policy of every answer and the headers of the
widget's files on other sites."""

from __future__ import annotations

# No page of this app (admin, playground, demo, /docs) uses a camera, microphone, location,
# payment or device API, so none may (nor anything framed in it). One constant header on every
# answer (RequestContextMiddleware, and the fast lane's static headers): on a document it
# applies, elsewhere browsers ignore it. The widget runs as a script in its host's page, whose
# own policy governs it: this header never reaches it. Features browsers know only (an unknown
# one is an error in Chrome's console).
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "camera", "display-capture", "geolocation", "gyroscope", "hid",
        "magnetometer", "microphone", "midi", "payment", "serial", "usb", "xr-spatial-tracking",
    )
)  # fmt: skip


def content_security_policy(*, style_src: str = "'self'") -> str:
    """Scripts, styles, images, fonts and connections from this origin only; no plugins, no
    <base>, no framing. ``style_src``: /docs also needs ``'unsafe-inline'`` (Swagger UI renders
    style attributes)."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {style_src}",
            "img-src 'self' data:",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def widget_asset_headers(headers: dict, path: str, url: str) -> None:
    """WhiteNoise's ``add_headers_function``: other sites load the widget's files (widget.js,
    widget.css) with plain script and link tags; under a Cross-Origin-Embedder-Policy they need
    this header or the browser blocks them."""
    if url.startswith("/static/chatbot/"):
        headers["Cross-Origin-Resource-Policy"] = "cross-origin"
