from django.urls import path

from apikeys import apis
from chatbot_project import converters  # noqa: F401  (registers <id:...>, any-case UUIDs)

urlpatterns = [
    path("api-keys", apis.APIKeyListAPI.as_view(), name="api-key-list"),
    path("api-keys/<id:key_id>", apis.APIKeyDetailAPI.as_view(), name="api-key-detail"),
    path("api-keys/<id:key_id>/rotate", apis.APIKeyRotateAPI.as_view(), name="api-key-rotate"),
]
