"""OpenAPI for the routes that are plain async views (not DRF), so drf-spectacular cannot see
them: ``POST /v1/chat``, ``POST /v1/retrieve``, ``GET /v1/openai/models`` (and
``/v1/openai/models/{model}``) and ``POST /v1/openai/chat/completions`` (a post-processing
hook, listed after ``tenants.schema.document_errors``). Clients and the Schemathesis run
(``make hardening``) read them from ``/v1/schema`` like every other route."""

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
CONTENT_PART = {
    "type": "object",
    "required": ["type"],
    "properties": {"type": {"type": "string"}, "text": {"type": "string"}},
    "description": "Only `text` parts carry text; other parts (images...) are left out.",
}
AS_GIVEN = {"description": "Sent to the model as given (its own default when absent)."}
UNAVAILABLE = {"description": "Not available: a bot returns text, not token probabilities."}
PENALTY = {"type": "number", "minimum": -2, "maximum": 2, "nullable": True, **AS_GIVEN}
OPENAI_REQUEST = {
    "type": "object",
    "required": ["model", "messages"],
    "properties": {
        "model": {"type": "string", "minLength": 1, "description": "The bot's slug."},
        "messages": {
            "type": "array",
            "minItems": 1,
            "description": "The last `user` message is the question; earlier `user` and "
            "`assistant` turns are the history. Other roles (system, developer, tool) are "
            "left out: the bot's own settings apply.",
            "items": {
                "type": "object",
                "required": ["role"],
                "properties": {
                    "role": {
                        "type": "string",
                        "enum": ["system", "developer", "user", "assistant", "tool", "function"],
                    },
                    "content": {
                        "oneOf": [
                            {"type": "string", "nullable": True},
                            {"type": "array", "items": CONTENT_PART},
                        ]
                    },
                },
            },
        },
        "stream": {"type": "boolean", "default": False},
        "stream_options": {
            "type": "object",
            "nullable": True,
            "description": "With `stream` only. `include_usage`: true adds a last chunk with "
            "`choices: []` and the `usage` (every chunk has `usage: null`); else no usage.",
            "properties": {"include_usage": {"type": "boolean"}},
        },
        "user": {"type": "string", "maxLength": 200},
        "max_tokens": {"type": "integer", "minimum": 1, "description": "Below the bot's."},
        "max_completion_tokens": {"type": "integer", "minimum": 1, "description": "Wins."},
        "temperature": {
            "type": "number",
            "minimum": 0,
            "maximum": 2,
            "nullable": True,
            "description": "Sent to the model in place of the bot's (the bot's when absent).",
        },
        "top_p": {"type": "number", "minimum": 0, "maximum": 1, "nullable": True, **AS_GIVEN},
        "presence_penalty": PENALTY,
        "frequency_penalty": PENALTY,
        "stop": {
            "nullable": True,
            "oneOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}, "maxItems": 4},
            ],
            "description": "Sent to the model as given; the offline provider cuts its answer "
            "at the first one (finish_reason stop).",
        },
        "seed": {"type": "integer", "nullable": True, **AS_GIVEN},
        "logit_bias": {
            "type": "object",
            "nullable": True,
            "additionalProperties": {"type": "number", "minimum": -100, "maximum": 100},
            "description": "Token ids to biases from -100 to 100. " + AS_GIVEN["description"],
        },
        "n": {"type": "integer", "enum": [1], "nullable": True},
        # Checked as OpenAI checks them, but a bot calls no tools and stores nothing elsewhere.
        "parallel_tool_calls": {"type": "boolean", "nullable": True},
        "store": {"type": "boolean", "nullable": True},
        # Only the values a bot can honour (any other is a 400 naming the parameter; null is
        # absent, as for every option here).
        "logprobs": {"type": "boolean", "enum": [False], "nullable": True, **UNAVAILABLE},
        "top_logprobs": {"type": "integer", "enum": [0], "nullable": True, **UNAVAILABLE},
        "tool_choice": {"type": "string", "enum": ["auto", "none"], "nullable": True},
        "response_format": {
            "type": "object",
            "nullable": True,
            "required": ["type"],
            "properties": {"type": {"type": "string", "enum": ["text"]}},
        },
        "modalities": {
            "type": "array",
            "nullable": True,
            "minItems": 1,
            "maxItems": 1,
            "items": {"type": "string", "enum": ["text"]},
        },
        "scope": {"type": "string", "description": "Scope slug or id (an extension)."},
    },
}
OPENAI_MODEL = {
    "type": "object",
    "required": ["id", "object", "created", "owned_by"],
    "properties": {
        "id": {"type": "string", "description": "The bot's slug."},
        "object": {"type": "string", "enum": ["model"]},
        "created": {"type": "integer", "description": "Unix time the bot was created."},
        "owned_by": {"type": "string", "description": "The tenant's slug."},
        "name": {"type": "string", "description": "The bot's name."},
    },
}
OPENAI_MODEL_LIST = {
    "type": "object",
    "required": ["object", "data"],
    "properties": {
        "object": {"type": "string", "enum": ["list"]},
        "data": {"type": "array", "items": OPENAI_MODEL},
    },
}
CHAT_COMPLETION = {
    "type": "object",
    "required": ["id", "object", "created", "model", "choices", "usage"],
    "properties": {
        "id": {"type": "string"},
        "object": {"type": "string", "enum": ["chat.completion"]},
        "created": {"type": "integer"},
        "model": {"type": "string", "description": "The bot's slug."},
        "choices": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["index", "message", "finish_reason"],
                "properties": {
                    "index": {"type": "integer"},
                    "message": {
                        "type": "object",
                        "required": ["role", "content"],
                        "properties": {
                            "role": {"type": "string", "enum": ["assistant"]},
                            "content": {"type": "string"},
                        },
                    },
                    "finish_reason": {
                        "type": "string",
                        "enum": ["stop", "length", "content_filter"],
                    },
                },
            },
        },
        "usage": USAGE,
        "citations": {"type": "array", "items": CITATION},
        "conversation_id": {"type": "string", "format": "uuid"},
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
                    "content": {"application/json": {"schema": OPENAI_MODEL_LIST}},
                },
                **_errors("400", "401", "403", "404", "429", "503"),
            },
        }
    }
    paths["/v1/openai/models/{model}"] = {
        "get": {
            "operationId": "openai_model",
            "summary": "One bot as an OpenAI model (what the SDK's models.retrieve asks).",
            "tags": ["openai"],
            "security": SECURITY,
            "parameters": [
                {
                    "name": "model",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "The bot's slug.",
                },
            ],
            "responses": {
                "200": {
                    "description": "The model.",
                    "content": {"application/json": {"schema": OPENAI_MODEL}},
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
                    "content": {"application/json": {"schema": CHAT_COMPLETION}, **SSE},
                },
                **errors,
            },
        }
    }
    return result
