from django.urls import path

from chatbot_project import converters  # noqa: F401  (registers <id:...>, any-case UUIDs)
from datasets import apis

urlpatterns = [
    path("datasets", apis.DatasetListAPI.as_view(), name="datasets"),
    path("datasets/<id:dataset_id>", apis.DatasetDetailAPI.as_view(), name="dataset"),
    path("datasets/<id:dataset_id>/documents", apis.DocumentListAPI.as_view(), name="documents"),
    path("documents/<id:document_id>", apis.DocumentDetailAPI.as_view(), name="document"),
    path(
        "documents/<id:document_id>/reingest",
        apis.DocumentReingestAPI.as_view(),
        name="document-reingest",
    ),
    path(
        "documents/<id:document_id>/chunks",
        apis.DocumentChunksAPI.as_view(),
        name="document-chunks",
    ),
]
