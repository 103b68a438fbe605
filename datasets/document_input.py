"""The checks a new document's input goes through (``datasets.document_services`` creators):
size, JSON depth, tags, metadata, and whether plain text looks like Markdown."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings

from chatbot_project import jsonbody
from chatbot_project.errors import APIError

MAX_JSON_DEPTH = 64
MAX_TAGS = 50
PRINTABLE_ONLY = "Use printable text only (no control characters)."
BLANK_TAG = "A tag cannot be empty or only spaces; leave it out."


def has_controls(value: str) -> bool:
    """C0 and C1 control characters (tab and newline included), as dataset names refuse them:
    a title or tag is shown on one line, in citations and lists."""
    return any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value)


def payload_too_large() -> APIError:
    mb = settings.MAX_UPLOAD_BYTES / (1024 * 1024)
    return APIError(
        f"The file is larger than the {mb:g} MB limit; split it or raise MAX_UPLOAD_BYTES.",
        type="payload_too_large",
        status_code=413,
    )


def json_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """Nesting depth of a parsed JSON value, iteratively (no recursion limit to hit)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _tag_error(message: str, index: int | None = None) -> APIError:
    """A 400 naming ``tags`` (and the item) in ``details.fields``, as the JSON route's
    serializer does, so uploads and JSON bodies refuse a tag alike."""
    if index is None:
        return APIError(f"tags: {message}", details={"fields": {"tags": [message]}})
    return APIError(
        f"tags: {index}: {message}", details={"fields": {"tags": {str(index): [message]}}}
    )


def clean_tags(tags: Iterable[str] | None) -> list[str]:
    """Stripped, deduplicated tags. A blank one ("", spaces, the empty item of ``a,,b``) is a
    400 naming it, never dropped: JSON bodies refuse it too (``DocumentJSONInputSerializer``)."""
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = tags.split(",")
    out: list[str] = []
    for index, tag in enumerate(tags):
        if not isinstance(tag, str):
            raise APIError("tags must be a list of strings.")
        tag = tag.strip()
        if not tag:
            raise _tag_error(BLANK_TAG, index)
        if len(tag) > 100:
            raise APIError("Each tag must be at most 100 characters.")
        if has_controls(tag):
            raise _tag_error(PRINTABLE_ONLY)
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise APIError(f"A document may carry at most {MAX_TAGS} tags.")
    return out


def clean_metadata(metadata: Any) -> dict:
    if metadata is None or metadata == "":
        return {}
    if isinstance(metadata, str):
        try:
            metadata = jsonbody.loads(metadata)
        except jsonbody.BadJSON as exc:
            raise APIError(f"metadata must be a JSON object: {exc}") from None
    if not isinstance(metadata, dict):
        raise APIError("metadata must be a JSON object.")
    if len(json.dumps(metadata)) > 16_384:
        raise APIError("metadata must be smaller than 16 KB.")
    return metadata


def _looks_markdown(text: str) -> bool:
    return bool(re.search(r"(?m)^(#{1,6} |```|\* |- |\d+\. )", text[:20_000]))
