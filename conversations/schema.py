"""OpenAPI for the routes that are plain async views (not DRF), so drf-spectacular cannot see
them: ``POST /v1/chat``, ``POST /v1/retrieve``, ``GET /v1/openai/models`` and
``POST /v1/openai/chat/completions`` (a post-processing hook, listed after
``tenants.schema.document_errors``). Clients and the Schemathesis run (``make hardening``) read
them from ``/v1/schema`` like every other route."""

from __future__ import annotations

from typing import Any

ERROR_REF = {"$ref": "#/components/schemas/Error"}
SECURITY = [{"apiKeyBearer": []}, {"apiKeyHeader": []}, {"jwtAuth": []}]

CHAT_REQUEST = {
    "type": "object",
    "required": ["bot", "message"],
    "properties": {
        "bot": {"type": "string", "minLength": 1, "description": "The bot's slug or id."},
        "message": {"type": "string", "minLength": 1, "maxLength": 100000},
        "conversation_id": {"type": "string", "format": "uuid", "nullable": True},
        "scope": {"type": "string", "nullable": True, "description": "Scope slug or id."},
        "user": {"type": "string", "maxLength": 200, "description": "End-user id."},
        "stream": {"type": "boolean", "default": False},
        "metadata": {"type": "object", "additionalProperties": True},
    },
    "additionalProperties": False,  # any other field is a 400 (chat_input.FIELDS)
}
CITATION = {
    "type": "object",
    "properties": {
        "index": {"type": "integer"},
        "chunk_id": {"type": "string"},
        "document_id": {"type": "string"},
        "document_title": {"type": "string"},
        "score": {"type": "number"},
        "snippet": {"type": "string"},
        "source": {"nullable": True},
    },
}
USAGE = {
    "type": "object",
    "properties": {
        "prompt_tokens": {"type": "integer"},
        "completion_tokens": {"type": "integer"},
        "total_tokens": {"type": "integer"},
    },
}
CHAT_RESPONSE = {
    "type": "object",
    "required": ["conversation_id", "message_id", "answer", "citations", "usage", "refused"],
    "properties": {
        "conversation_id": {"type": "string", "format": "uuid"},
        "message_id": {"type": "string", "format": "uuid"},
        "answer": {"type": "string"},
        "citations": {"type": "array", "items": CITATION},
        "usage": USAGE,
        "refused": {"type": "boolean"},
        "finish_reason": {"type": "string"},
        "latency_ms": {"type": "integer"},
        "model": {"type": "string"},
    },
}
# One Server-Sent Event (its `data` is a JSON document): /v1/chat sends the events start,
# citations, delta..., then end or error; the OpenAI route sends unnamed chunks and [DONE].
SSE = {
    "text/event-stream": {
        "schema": {
            "type": "object",
            "required": ["data"],
            "properties": {
                "event": {"type": "string"},
                "data": {"type": "string"},
                "id": {"type": "string"},
            },
        }
    }
}
RETRIEVE_REQUEST = {
    "type": "object",
    "required": ["query"],
    "description": "Send `bot` (slug or id) or `datasets` (ids).",
    "properties": {
        "bot": {"type": "string"},
        "datasets": {"type": "array", "items": {"type": "string", "format": "uuid"}},
        "query": {"type": "string", "maxLength": 10000},
        "top_k": {"type": "integer", "minimum": 1, "maximum": 50},
        "scope": {"type": "string"},
        "mode": {"type": "string", "enum": ["vector", "keyword", "hybrid"]},
        "score_threshold": {"type": "number", "minimum": 0, "maximum": 1},
    },
}
RETRIEVE_RESPONSE = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "data": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "chunk_id": {"type": "string"},
                    "document_id": {"type": "string"},
                    "document_title": {"type": "string"},
                    "text": {"type": "string"},
                    "score": {"type": "number"},
                    "metadata": {"type": "object"},
                },
            },
        }
    },
}
OPENAI_REQUEST = {
    "type": "object",
    "required": ["model", "messages"],
    "properties": {
        "model": {"type": "string", "minLength": 1, "description": "The bot's slug."},
        "messages": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["role", "content"],
                "properties": {
                    "role": {"type": "string", "enum": ["system", "user", "assistant"]},
                    "content": {"type": "string"},
                },
            },
        },
        "stream": {"type": "boolean", "default": False},
        "user": {"type": "string"},
    },
}


def _errors(*codes: str) -> dict[str, Any]:
    return {
        code: {
            "description": "Error (API.md).",
            "content": {"application/json": {"schema": ERROR_REF}},
        }
        for code in codes
    }


def document_chat_routes(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict:
    paths = result.setdefault("paths", {})
    errors = _errors("400", "401", "403", "404", "413", "415", "429", "502", "503")
    paths["/v1/chat"] = {
        "post": {
            "operationId": "chat",
            "summary": "Ask a bot (JSON answer, or Server-Sent Events with stream=true).",
            "tags": ["chat"],
            "security": SECURITY,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": CHAT_REQUEST}},
            },
            "responses": {
                "200": {
                    "description": "The answer (JSON), or its event stream.",
                    "content": {"application/json": {"schema": CHAT_RESPONSE}, **SSE},
                },
                # 409: the conversation is answering another message, or its bot was deleted
                **_errors("400", "401", "403", "404", "409", "413", "415", "429", "502", "503"),
            },
        }
    }
    paths["/v1/retrieve"] = {
        "post": {
            "operationId": "retrieve",
            "summary": "The best chunks for a query (tenant, bot datasets and scope applied).",
            "tags": ["chat"],
            "security": SECURITY,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": RETRIEVE_REQUEST}},
            },
            "responses": {
                "200": {
                    "description": "Chunks, best first.",
                    "content": {"application/json": {"schema": RETRIEVE_RESPONSE}},
                },
                **_errors("400", "401", "403", "404", "413", "415", "429", "503"),
            },
        }
    }
    paths["/v1/openai/models"] = {
        "get": {
            "operationId": "openai_models",
            "summary": "The tenant's active bots as OpenAI models.",
            "tags": ["openai"],
            "security": SECURITY,
            "responses": {
                "200": {
                    "description": "Model list.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                **_errors("400", "401", "403", "404", "429", "503"),
            },
        }
    }
    paths["/v1/openai/chat/completions"] = {
        "post": {
            "operationId": "openai_chat_completions",
            "summary": "OpenAI-compatible chat completions (model = bot slug).",
            "tags": ["openai"],
            "security": SECURITY,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": OPENAI_REQUEST}},
            },
            "responses": {
                "200": {
                    "description": "A chat.completion, or chunks ending with data: [DONE].",
                    "content": {"application/json": {"schema": {"type": "object"}}, **SSE},
                },
                **errors,
            },
        }
    }
    return result
