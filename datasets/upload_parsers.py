"""The documents route's form parsers: Django's refusals of a multipart or form body, in our words.

Django's multipart parser words its refusals for developers ("Multipart form parse error -
Request max total header size exceeded."), and two of them (more than
``DATA_UPLOAD_MAX_NUMBER_FILES`` files, more than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` fields)
are SuspiciousOperations that DRF does not catch: a 500. Here each is API.md's 400
``invalid_request`` with a sentence saying what to change.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent, TooManyFilesSent
from django.http.multipartparser import MAX_TOTAL_HEADER_SIZE
from rest_framework.exceptions import ParseError

from chatbot_project import jsonbody
from chatbot_project.errors import APIError


def _refusal(exc: Exception) -> APIError | None:
    """Our sentence for a refusal of Django's parsers, or None to let ``exc`` through."""
    if isinstance(exc, TooManyFilesSent):
        return APIError(
            f"The request carries more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files; send "
            "one `file` per request (each file becomes its own document)."
        )
    if isinstance(exc, TooManyFieldsSent):
        return APIError(
            f"The request carries more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} form "
            "fields; a document takes `file`, `title`, `tags` and `metadata`."
        )
    if not isinstance(exc, ParseError):
        return None
    detail = str(exc.detail)
    if "max total header size" in detail:
        # A part's headers (Content-Disposition with the file name, Content-Type) must fit.
        room = MAX_TOTAL_HEADER_SIZE - 100
        return APIError(
            f"The file name is too long: the headers of a multipart part, its file name "
            f"included, must fit in {MAX_TOTAL_HEADER_SIZE:,} bytes, which leaves about "
            f"{room:,} bytes (UTF-8) for the name. Rename the file and upload it again."
        )
    if "Invalid boundary in multipart" in detail:
        return APIError(
            "The Content-Type header names no valid multipart boundary "
            "(multipart/form-data; boundary=...); let the HTTP client build the multipart body."
        )
    return None


class UploadMultiPartParser(jsonbody.StrictMultiPartParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except (ParseError, TooManyFilesSent, TooManyFieldsSent) as exc:
            refusal = _refusal(exc)
            if refusal is None:
                raise
            raise refusal from None


class UploadFormParser(jsonbody.StrictFormParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except TooManyFieldsSent as exc:
            raise _refusal(exc) from None
