from django.urls import path

from datasets import apis

urlpatterns = [
    path("datasets", apis.DatasetListAPI.as_view(), name="datasets"),
    path("datasets/<uuid:dataset_id>", apis.DatasetDetailAPI.as_view(), name="dataset"),
    path("datasets/<uuid:dataset_id>/documents", apis.DocumentListAPI.as_view(), name="documents"),
    path("documents/<uuid:document_id>", apis.DocumentDetailAPI.as_view(), name="document"),
    path(
        "documents/<uuid:document_id>/reingest",
        apis.DocumentReingestAPI.as_view(),
        name="document-reingest",
    ),
    path(
        "documents/<uuid:document_id>/chunks",
        apis.DocumentChunksAPI.as_view(),
        name="document-chunks",
    ),
]
