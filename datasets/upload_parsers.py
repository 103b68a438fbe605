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
from django.http.multipartparser import MAX_TOTAL_HEADER_SIZE, MultiPartParserError
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.utils.http import parse_header_parameters
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, get_encoding

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


class _ClosingWatch:
    """The request body as the multipart parser reads it, noting whether its closing delimiter
    (``--boundary--``) went by: Django drops a part the body ends inside of without a word,
    so a cut-short upload read as "no file sent" (``TRUNCATED``, said by the view instead)."""

    def __init__(self, stream: Any, boundary: bytes) -> None:
        self.stream = stream
        self.closing = b"--" + boundary + b"--"
        self.tail = b""
        self.closed = False

    def read(self, *args: Any) -> bytes:
        data = self.stream.read(*args)
        if not self.closed and data:
            window = self.tail + data
            self.closed = self.closing in window
            self.tail = window[-len(self.closing) :]
        return data


TRUNCATED = (
    "The multipart body ends before its closing boundary, so the file in it is incomplete: "
    "the upload was cut short (or the body was built without the final `--boundary--` line). "
    "Send it again."
)


def body_was_cut_short(request: Any) -> bool:
    """Whether the multipart body of ``request`` (parsed by ``UploadMultiPartParser``) ended
    before its closing delimiter."""
    watch = getattr(request, "_closing_watch", None)
    return watch is not None and bool(watch.tail) and not watch.closed  # (an empty body: no)


class _NameWatch(DjangoMultiPartParser):
    """Django's multipart parser, counting the file parts it drops because their file name
    comes to nothing once the path is taken out (``..``, ``/``, ``a/``): they read as "no
    `file` sent" (``file_name_dropped``)."""

    dropped = 0

    def sanitize_file_name(self, file_name: str) -> str | None:
        name = super().sanitize_file_name(file_name)
        self.dropped += name is None
        return name


def file_name_dropped(request: Any) -> bool:
    """Whether the multipart body of ``request`` had a file part Django dropped for its name."""
    watch = getattr(request, "_name_watch", None)
    return watch is not None and watch.dropped > 0


class UploadMultiPartParser(jsonbody.StrictMultiPartParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        request = (parser_context or {}).get("request")
        boundary = parse_header_parameters(media_type or "")[1].get("boundary", "")
        if request is not None and boundary:
            stream = request._closing_watch = _ClosingWatch(stream, boundary.encode("latin-1"))
        try:
            if request is None:
                return super().parse(stream, media_type, parser_context)
            return jsonbody._checked(self._parse(request, stream, media_type, parser_context))
        except (ParseError, TooManyFilesSent, TooManyFieldsSent) as exc:
            refusal = _refusal(exc)
            if refusal is None:
                raise
            raise refusal from None

    @staticmethod
    def _parse(request: Any, stream: Any, media_type: Any, parser_context: Any) -> DataAndFiles:
        """DRF's MultiPartParser.parse with ``_NameWatch`` for Django's parser."""
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        encoding = get_encoding(parser_context)
        try:
            parser = _NameWatch(meta, stream, request.upload_handlers, encoding)
            request._name_watch = parser
            return DataAndFiles(*parser.parse())
        except MultiPartParserError as exc:
            raise ParseError(f"Multipart form parse error - {exc}") from None


class UploadFormParser(jsonbody.StrictFormParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except TooManyFieldsSent as exc:
            raise _refusal(exc) from None
