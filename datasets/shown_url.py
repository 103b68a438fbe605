"""The form of a URL document's address that end users see (citations' ``source``, the default
title): without the credentials a pre-signed URL carries.

A tenant may ingest a private object by a pre-signed URL (S3 ``X-Amz-Signature``, Google Cloud
Storage ``X-Goog-Signature``, Azure SAS ``sig``, CloudFront ``Signature``/``Key-Pair-Id``, a
``?token=``). The document keeps the whole URL (``source_url``: a re-fetch needs it, and only
the tenant's own keys read documents), but a citation goes to every chat user, the anonymous
visitors of a widget included: it shows the address without those parameters. An address
without credentials is shown as it is.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Any one of these marks the URL as carrying a credential.
_SECRET = re.compile(
    r"(x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential"
    r"|googleaccessid|signature|sig|key-pair-id|policy|token|access_token|id_token|api_key"
    r"|apikey|api-key|key|auth|password|secret)",
    re.IGNORECASE,
)
# Removed too when the URL carries one: the signature's companions (expiry, scope, SAS fields).
_COMPANION = re.compile(
    r"(x-amz-[a-z-]*|x-goog-[a-z-]*|expires|se|sp|sv|sr|st|spr|sip|skoid|sktid|skt|ske|sks|skv"
    r"|sdd|srt|ss)",
    re.IGNORECASE,
)


def shown_url(url: str) -> str:
    """``url`` as end users may see it (see the module docstring)."""
    if "?" not in url and "#" not in url and "@" not in url:
        return url  # (the common case, on the retrieval's hot path: no parsing)
    try:
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0]
    netloc = parts.netloc.rsplit("@", 1)[-1]  # (the fetcher refuses user:password@ anyway)
    fragment = "" if "=" in parts.fragment else parts.fragment  # #access_token=...
    if any(_SECRET.fullmatch(k) for k, _ in pairs):
        pairs = [(k, v) for k, v in pairs if not (_SECRET.fullmatch(k) or _COMPANION.fullmatch(k))]
        query = urlencode(pairs)
    else:
        query = parts.query
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))
