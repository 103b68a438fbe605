from django.urls import path

from audit import apis

urlpatterns = [
    path("audit", apis.AuditListAPI.as_view(), name="audit-list"),
]
