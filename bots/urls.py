from django.urls import path

from bots import apis
from chatbot_project import converters  # noqa: F401  (registers <id:...>, any-case UUIDs)

urlpatterns = [
    path("bots", apis.BotListAPI.as_view(), name="bot-list"),
    path("bots/<id:bot_id>", apis.BotDetailAPI.as_view(), name="bot-detail"),
    path("scopes", apis.ScopeListAPI.as_view(), name="scope-list"),
    path("scopes/<id:scope_id>", apis.ScopeDetailAPI.as_view(), name="scope-detail"),
]
