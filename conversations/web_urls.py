"""Web pages at the site root: index, playground, widget demo, and the widget's static files."""

from django.urls import path

from conversations import web_views

urlpatterns: list = [
    path("", web_views.index, name="web-index"),
    path("playground/", web_views.playground, name="web-playground"),
    path("playground", web_views.add_slash),
    path("demo/", web_views.demo, name="web-demo"),
    path("demo", web_views.add_slash),
    path("static/chatbot/<str:name>", web_views.widget_asset, name="web-widget-asset"),
]
