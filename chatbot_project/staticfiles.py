"""/static/ (the widget's files, admin CSS, Swagger UI's assets): WhiteNoise, in every mode
(settings: ``WHITENOISE_*``), with a body an ASGI server can stream.

WhiteNoise's Django middleware answers with a FileResponse over the open file, a synchronous
iterator. Django's ASGI handler cannot iterate one on the event loop: it warned
("StreamingHttpResponse must consume synchronous iterators in order to serve them
asynchronously", the first static file `make run` served, e.g. widget.js) and read the whole file
into a list in a thread before sending a byte. Under ASGI the same file is read here in chunks,
each in a thread, as an asynchronous iterator; status and headers (content type, Cache-Control,
ETag, Last-Modified, CORS and CORP, ranges, 304s) stay WhiteNoise's. Under WSGI (and Django's
test Client) nothing changes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import BinaryIO

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from whitenoise.middleware import WhiteNoiseFileResponse, WhiteNoiseMiddleware

CHUNK = 256 * 1024  # widget.js, widget.css and the admin's files are one chunk each


async def _chunks(file: BinaryIO | None) -> AsyncIterator[bytes]:
    if file is None:  # HEAD, 304, 416: no body
        return
    read = sync_to_async(file.read, thread_sensitive=False)
    try:
        while chunk := await read(CHUNK):
            yield chunk
    finally:
        file.close()


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise's middleware with an asynchronous body under ASGI."""

    @staticmethod
    def serve(static_file, request):
        if not isinstance(request, ASGIRequest):
            return WhiteNoiseMiddleware.serve(static_file, request)
        response = static_file.get_response(request.method, request.META)
        http_response = WhiteNoiseFileResponse(_chunks(response.file), status=int(response.status))
        if response.file is not None:
            # Also when the client leaves before the end (the iterator is then never resumed).
            http_response._resource_closers.append(response.file.close)
        del http_response["content-type"]  # WhiteNoise's headers below name it
        for key, value in response.headers:
            http_response[key] = value
        return http_response
