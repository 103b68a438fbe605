from django.urls import path

from apikeys import apis

urlpatterns = [
    path("api-keys", apis.APIKeyListAPI.as_view(), name="api-key-list"),
    path("api-keys/<uuid:key_id>", apis.APIKeyDetailAPI.as_view(), name="api-key-detail"),
]
