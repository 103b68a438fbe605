from django.urls import path

from bots import apis

urlpatterns = [
    path("bots", apis.BotListAPI.as_view(), name="bot-list"),
    path("bots/<uuid:bot_id>", apis.BotDetailAPI.as_view(), name="bot-detail"),
    path("scopes", apis.ScopeListAPI.as_view(), name="scope-list"),
    path("scopes/<uuid:scope_id>", apis.ScopeDetailAPI.as_view(), name="scope-detail"),
]
