from django.urls import path

from chatbot_project import converters  # noqa: F401  (registers <id:...>, any-case UUIDs)
from conversations import apis, feedback_api, gaps_api, openai_compat, streaming

urlpatterns = [
    path("chat", streaming.chat_view, name="chat"),
    path("retrieve", apis.retrieve_view, name="retrieve"),
    path("conversations", apis.ConversationListView.as_view(), name="conversation-list"),
    path(
        "conversations/<id:conversation_id>",
        apis.ConversationDetailView.as_view(),
        name="conversation-detail",
    ),
    path(
        "messages/<id:message_id>/feedback",
        feedback_api.MessageFeedbackView.as_view(),
        name="message-feedback",
    ),
    path("usage", apis.UsageView.as_view(), name="usage"),
    path("unanswered", gaps_api.UnansweredView.as_view(), name="unanswered"),
    path("openai/models", openai_compat.models_view, name="openai-models"),
    path("openai/models/<str:model>", openai_compat.models_view, name="openai-model"),
    path("openai/chat/completions", openai_compat.completions_view, name="openai-completions"),
]
