"""The Content-Security-Policy of the pages this app serves (playground, demo, /docs)."""

from __future__ import annotations


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
