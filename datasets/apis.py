"""REST for datasets, documents and chunks (API.md). Thin: parse, call a service, serialize."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from chatbot_project import jsonbody
from chatbot_project.errors import APIError
from chatbot_project.pagination import CursorPagination
from datasets import selectors, services
from datasets.document_edit import document_update
from datasets.document_input import PRINTABLE_ONLY, has_controls
from datasets.models import Document
from datasets.serializers import (
    ChunkSerializer,
    DatasetInputSerializer,
    DatasetSerializer,
    DocumentJSONInputSerializer,
    DocumentReingestInputSerializer,
    DocumentSerializer,
    DocumentUpdateInputSerializer,
)
from datasets.upload_parsers import (
    TRUNCATED,
    UploadFormParser,
    UploadMultiPartParser,
    body_was_cut_short,
    file_name_dropped,
)
from tenants.views import TenantAPIView

MULTIPART_OVERHEAD = 64 * 1024  # form fields and boundaries around the file


class LimitedUploadHandler(FileUploadHandler):
    """Stops a multipart upload as soon as it passes MAX_UPLOAD_BYTES (no Content-Length needed)."""

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.total = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.total += len(raw_data)
        if self.total > settings.MAX_UPLOAD_BYTES:
            raise services.payload_too_large()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def _parse_tags(raw: str) -> list[str]:
    """One form field: "a,b" or a JSON list '["a", "b"]'; an empty field (a web form's blank
    input) is no tags. Blank items (``a,,b``) are refused by the service (``clean_tags``)."""
    if not raw.strip():
        return []
    if raw.strip().startswith("["):
        try:
            value = jsonbody.loads(raw)
        except ValueError:
            raise APIError("tags must be comma-separated or a JSON list of strings.") from None
        if isinstance(value, list):
            return value
    return raw.split(",")


UPLOAD_FIELDS = frozenset({"file", "title", "tags", "metadata"})
NO_FILE_NAME = (
    "The file part has no usable file name (its filename is missing, empty or only a path "
    'such as ".." or "/"); send it with the file\'s name, e.g. filename="notes.pdf".'
)


def _field_error(name: str, problem: str) -> APIError:
    return APIError(f"{name}: {problem}", details={"fields": {name: [problem]}})


def _check_parts(request: Any) -> None:
    """The parts of a multipart upload as API.md lists them, else a 400 naming the part, as
    for a JSON field (``StrictSerializer``): an unknown part (a misspelt ``tittle``) was
    dropped; ``title`` or ``tags`` sent as a file (``curl -F title=@notes.txt``) was a 500;
    a second ``title`` or ``metadata`` silently replaced the first (``tags`` may repeat)."""
    unknown = sorted({*request.data.keys(), *request.FILES.keys()} - UPLOAD_FIELDS)
    if unknown:
        problem = "Unknown field; send `file` with optional `title`, `tags` and `metadata`."
        raise APIError(
            f"{unknown[0]}: {problem}", details={"fields": {name: [problem] for name in unknown}}
        )
    for name in ("title", "tags", "metadata"):
        if name in request.FILES:
            raise _field_error(name, "Send it as a text field, not a file.")
    for name in ("title", "metadata"):
        count = len(request.data.getlist(name))
        if count > 1:
            raise _field_error(name, f"Send it once; it was sent {count} times.")


class LimitedAPIView(TenantAPIView):
    # Datasets and documents as the caller may see them: a key limited to certain bots or
    # scopes sees only their datasets (``selectors.readable_dataset_ids``), the rest are 404s.

    def dataset(self, dataset_id: Any, *, counted: bool = False) -> Any:
        return selectors.dataset_get(
            tenant=self.tenant, dataset_id=dataset_id, context=self.auth, counted=counted
        )

    def document(self, document_id: Any) -> Document:
        return selectors.document_get(
            tenant=self.tenant, document_id=document_id, context=self.auth
        )


class ChunkPagination(CursorPagination):
    ordering = ("index",)


class DatasetListAPI(LimitedAPIView):
    serializer_class = DatasetSerializer

    @extend_schema(operation_id="datasets_list", responses=DatasetSerializer(many=True))
    def get(self, request: Any) -> Response:
        datasets = selectors.dataset_list(tenant=self.tenant, context=self.auth)
        return self.list_response(datasets, DatasetSerializer)

    @extend_schema(
        operation_id="datasets_create",
        request=DatasetInputSerializer,
        responses={201: DatasetSerializer},
    )
    def post(self, request: Any) -> Response:
        if selectors.readable_dataset_ids(context=self.auth) is not None:
            # (a new dataset belongs to no bot yet: outside the key's limit at once)
            raise APIError(
                "This API key is limited to certain bots or scopes, so it cannot create a "
                "dataset; use a key without those limits, or a signed-in user.",
                type="permission_denied", status_code=403,
            )  # fmt: skip
        dataset = services.dataset_create(tenant=self.tenant, **self.parse(DatasetInputSerializer))
        dataset = selectors.dataset_get(tenant=self.tenant, dataset_id=dataset.pk)
        return Response(DatasetSerializer(dataset).data, status=status.HTTP_201_CREATED)


class DatasetDetailAPI(LimitedAPIView):
    serializer_class = DatasetSerializer

    @extend_schema(operation_id="datasets_retrieve", responses=DatasetSerializer)
    def get(self, request: Any, dataset_id: Any) -> Response:
        return Response(DatasetSerializer(self.dataset(dataset_id, counted=True)).data)

    @extend_schema(
        operation_id="datasets_update", request=DatasetInputSerializer, responses=DatasetSerializer
    )
    def patch(self, request: Any, dataset_id: Any) -> Response:
        dataset = self.dataset(dataset_id)
        fields = self.parse(DatasetInputSerializer, partial=True)
        services.dataset_update(tenant=self.tenant, dataset=dataset, **fields)
        dataset = self.dataset(dataset_id, counted=True)
        return Response(DatasetSerializer(dataset).data)

    @extend_schema(operation_id="datasets_destroy", responses={204: None})
    def delete(self, request: Any, dataset_id: Any) -> Response:
        dataset = self.dataset(dataset_id)
        services.dataset_delete(tenant=self.tenant, dataset=dataset)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DocumentListAPI(LimitedAPIView):
    serializer_class = DocumentSerializer
    # Strict (NUL, NaN, unpaired surrogates, deep nesting are a 400: chatbot_project/jsonbody.py);
    # Django's refusals of a form body in our words (datasets/upload_parsers.py)
    parser_classes = [jsonbody.StrictJSONParser, UploadMultiPartParser, UploadFormParser]

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method != "POST":
            return
        # Refuse oversized bodies from the header, before reading (let alone buffering) them.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        content_type = request.META.get("CONTENT_TYPE", "")
        if content_type.startswith("multipart/"):
            if not request.META.get("CONTENT_LENGTH"):
                # Django reads no multipart body without a length: the file would seem missing.
                raise APIError(
                    "Send the upload with a Content-Length header; multipart uploads without "
                    "one (chunked transfer encoding) are not supported."
                )
            if length > settings.MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD:
                raise services.payload_too_large()
            request._request.upload_handlers.insert(0, LimitedUploadHandler(request._request))
        elif length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
            raise APIError(
                f"JSON bodies are limited to {mb:g} MB; upload larger content as a multipart file.",
                type="payload_too_large",
                status_code=413,
            )

    @extend_schema(
        operation_id="documents_list",
        parameters=[OpenApiParameter("status", str, description="queued|processing|ready|failed")],
        responses=DocumentSerializer(many=True),
    )
    def get(self, request: Any, dataset_id: Any) -> Response:
        dataset = self.dataset(dataset_id)
        wanted = request.query_params.get("status")
        if wanted and wanted not in Document.Status.values:
            raise APIError(f"status must be one of {', '.join(Document.Status.values)}.")
        docs = selectors.document_list(tenant=self.tenant, dataset=dataset, status=wanted)
        return self.list_response(docs, DocumentSerializer)

    @extend_schema(
        operation_id="documents_create",
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "title": {"type": "string"},
                    "tags": {"type": "string", "description": "comma-separated or repeated"},
                    "metadata": {"type": "string", "description": "a JSON object"},
                },
                "required": ["file"],
            },
            "application/json": DocumentJSONInputSerializer,
        },
        responses={202: DocumentSerializer, 200: DocumentSerializer},
        description="202 with a new document (ingested in the background); 200 with the "
        "existing one when identical content was already posted to this dataset.",
    )
    def post(self, request: Any, dataset_id: Any) -> Response:
        dataset = self.dataset(dataset_id)
        common = {"tenant": self.tenant, "dataset": dataset}
        if request.content_type.startswith(("multipart/", "application/x-www-form-urlencoded")):
            uploads = request.FILES.getlist("file")
            if not uploads and body_was_cut_short(request):
                raise APIError(TRUNCATED)
            named = "file" in request.data or file_name_dropped(request)
            if not uploads and named and request.content_type.startswith("multipart/"):
                # filename="" (or none) is read as a text field, "..", "/" as nothing at all
                raise _field_error("file", NO_FILE_NAME)
            if not uploads:
                # Django reads a part without a file name, or whose headers are not UTF-8, as
                # no file at all (curl sends a Latin-1 name's bytes as they are).
                raise APIError(
                    "Send the document as a multipart field named `file`, with a file name in "
                    "UTF-8 (a part without one is not read as a file)."
                )
            if len(uploads) > 1:
                raise APIError("Send one `file` per request; each file becomes its own document.")
            _check_parts(request)
            upload = uploads[0]
            title = request.data.get("title", "")
            if len(title) > 500:  # as the JSON route's serializer says it
                raise APIError("title: Ensure this field has no more than 500 characters.")
            if has_controls(title):
                raise APIError(f"title: {PRINTABLE_ONLY}")
            tags = request.data.getlist("tags") if hasattr(request.data, "getlist") else []
            if len(tags) == 1:  # "a,b" or a JSON list '["a", "b"]'
                tags = _parse_tags(tags[0])
            document, created = services.document_create_from_upload(
                **common,
                uploaded_file=upload,
                title=title,
                tags=tags,
                metadata=request.data.get("metadata"),
            )
        else:
            data = self.parse(DocumentJSONInputSerializer)
            extra = {
                "title": data.get("title", ""),
                "tags": data.get("tags", ()),
                "metadata": data.get("metadata"),
            }
            if "url" in data:
                document, created = services.document_create_from_url(
                    **common, url=data["url"], **extra
                )
            elif "text" in data:
                document, created = services.document_create_from_text(
                    **common, text=data["text"], **extra
                )
            else:
                document, created = services.document_create_from_json(
                    **common, data=data["json"], **extra
                )
        code = status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK
        return Response(DocumentSerializer(document).data, status=code)


class DocumentDetailAPI(LimitedAPIView):
    serializer_class = DocumentSerializer

    @extend_schema(operation_id="documents_retrieve", responses=DocumentSerializer)
    def get(self, request: Any, document_id: Any) -> Response:
        document = self.document(document_id)
        return Response(DocumentSerializer(document).data)

    @extend_schema(
        operation_id="documents_partial_update",
        request=DocumentUpdateInputSerializer,
        responses=DocumentSerializer,
    )
    def patch(self, request: Any, document_id: Any) -> Response:
        document = self.document(document_id)
        fields = self.parse(DocumentUpdateInputSerializer, partial=True)
        ctx = self.auth
        limited = ctx is not None and (
            ctx.allowed_bot_ids is not None or ctx.allowed_scope_ids is not None
        )
        if limited and "tags" in fields:
            # Tags decide what a scope may read: a key limited to a scope could retag a
            # document its scope hides and then read it.
            raise APIError(
                "This API key is limited to certain bots or scopes, so it cannot change a "
                "document's tags (they decide which scopes may read it); use a key without "
                "those limits.",
                type="permission_denied", status_code=403,
            )  # fmt: skip
        document = document_update(tenant=self.tenant, document=document, **fields)
        return Response(DocumentSerializer(document).data)

    @extend_schema(operation_id="documents_destroy", responses={204: None})
    def delete(self, request: Any, document_id: Any) -> Response:
        document = self.document(document_id)
        services.document_delete(tenant=self.tenant, document=document)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DocumentReingestAPI(LimitedAPIView):
    serializer_class = DocumentSerializer
    required_permission = "write"

    @extend_schema(
        operation_id="documents_reingest",
        request=DocumentReingestInputSerializer,
        responses={202: DocumentSerializer},
    )
    def post(self, request: Any, document_id: Any) -> Response:
        document = self.document(document_id)
        refetch = self.parse(DocumentReingestInputSerializer)["refetch"]
        document = services.document_reingest(
            tenant=self.tenant, document=document, refetch=refetch
        )
        return Response(DocumentSerializer(document).data, status=status.HTTP_202_ACCEPTED)


class DocumentChunksAPI(LimitedAPIView):
    serializer_class = ChunkSerializer
    pagination_class = ChunkPagination

    @extend_schema(operation_id="documents_chunks", responses=ChunkSerializer(many=True))
    def get(self, request: Any, document_id: Any) -> Response:
        ctx = self.auth
        if ctx is not None and (
            ctx.allowed_bot_ids is not None or ctx.allowed_scope_ids is not None
        ):
            # Raw text ignores scopes' document tags and redact terms: not for limited keys.
            raise APIError(
                "This API key is limited to certain bots or scopes, so it cannot read document "
                "text directly; use /v1/retrieve or /v1/chat, or a key without those limits.",
                type="permission_denied", status_code=403,
            )  # fmt: skip
        document = self.document(document_id)
        return self.list_response(
            selectors.chunk_list(tenant=self.tenant, document=document), ChunkSerializer
        )
