from django.urls import path  # noqa: F401

# Web pages (playground, widget demo): the web issue.
urlpatterns: list = []
