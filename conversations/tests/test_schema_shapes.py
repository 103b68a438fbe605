"""``/v1/schema`` against API.md for the conversation routes: the conversation, message
(feedback) and usage bodies were a bare ``object`` (no field declared, any body conformed), and
``POST /v1/chat`` did not list its 409. Real answers are checked against the published shapes."""

from __future__ import annotations

import pytest
from openapi_schema_validator import OAS30Validator

from chatbot_project.testing.schema_check import published_schema, response_errors

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        return published_schema()


_errors = response_errors


def test_chat_lists_its_409(schema):
    assert "409" in schema["paths"]["/v1/chat"]["post"]["responses"]


def test_conversation_message_and_usage_bodies_are_described(schema, kb, api):
    """The documented fields are declared (a bare object declared none), and real answers
    conform: the conversation list page, one conversation with its messages, feedback, usage."""
    conversation = schema["components"]["schemas"]["Conversation"]
    assert {"id", "bot", "user", "scope", "title", "created_at", "updated_at",
            "message_count"} <= set(conversation["properties"])  # fmt: skip
    message = schema["components"]["schemas"]["Message"]
    fields = {"id", "role", "content", "citations", "usage", "latency_ms", "model",
              "finish_reason", "refused", "feedback", "created_at"}  # fmt: skip
    assert fields <= set(message["properties"])
    assert message["properties"]["citations"]["items"]["properties"]["document_title"]

    answer = api.post("/v1/chat", {"bot": "helper", "message": "How do I limit clients?"},
                      format="json").json()  # fmt: skip
    conv_id, message_id = answer["conversation_id"], answer["message_id"]
    page = api.get("/v1/conversations").json()
    detail = api.get(f"/v1/conversations/{conv_id}").json()
    feedback = api.post(f"/v1/messages/{message_id}/feedback", {"rating": "up"}, format="json")
    usage = api.get("/v1/usage").json()
    assert detail["messages"][1]["citations"]
    assert usage["data"]
    checks = [
        ("/v1/conversations", page),
        ("/v1/conversations/{conversation_id}", detail),
        ("/v1/usage", usage),
    ]
    for path, body in checks:
        assert not _errors(schema, path, "get", "200", body), path
    assert not _errors(schema, "/v1/messages/{message_id}/feedback", "post", "200",
                       feedback.json())  # fmt: skip
    # A declared body, not a bare object: a wrong shape is caught.
    assert _errors(schema, "/v1/conversations/{conversation_id}", "get", "200",
                   {**detail, "messages": [{"id": 1}]})  # fmt: skip
    assert _errors(schema, "/v1/usage", "get", "200", {"data": [{"date": 5}]})
    assert _errors(schema, "/v1/conversations", "get", "200", {"data": "x"})


def _request_errors(schema, path: str, body) -> list[str]:
    content = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    validator = OAS30Validator({**content["schema"], "components": schema["components"]})
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]


def test_openai_routes_publish_the_shapes_the_sdk_reads(schema, kb, api):
    """The model list, one model (the SDK's models.retrieve) and the chat.completion were a bare
    object (models/{model} was not listed); a request as the SDK sends it (a `developer` message,
    content parts) was refused by the published request schema while the route takes it."""
    path = "/v1/openai/chat/completions"
    request = {
        "model": "helper",
        "messages": [
            {"role": "developer", "content": "Be brief."},
            {"role": "assistant", "content": None},
            {"role": "user", "content": [{"type": "text", "text": "How do I limit clients?"}]},
        ],
        "max_completion_tokens": 50,
    }
    assert not _request_errors(schema, path, request)
    res = api.post(path, request, format="json")
    assert res.status_code == 200, res.content[:300]
    assert not _errors(schema, path, "post", "200", res.json())
    assert _errors(schema, path, "post", "200", {**res.json(), "choices": [{"index": 0}]})

    models = api.get("/v1/openai/models").json()
    assert not _errors(schema, "/v1/openai/models", "get", "200", models)
    assert _errors(schema, "/v1/openai/models", "get", "200", {"object": "list", "data": [{}]})
    one = api.get("/v1/openai/models/helper").json()
    assert not _errors(schema, "/v1/openai/models/{model}", "get", "200", one)
