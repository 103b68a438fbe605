"""Every option POST /v1/openai/chat/completions reads is in its OpenAPI request schema
(conversations/schema.py), with the limits the route checks: `logit_bias` (sent to the model
since openai_params took it), `logprobs`, `top_logprobs`, `parallel_tool_calls`, `store`,
`tool_choice`, `response_format` and `modalities` were taken or refused by value but missing
from /v1/schema, so clients and the Schemathesis run did not know them."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from chatbot_project.errors import APIError
from conversations import openai_params
from conversations.openai_compat import chat_input
from conversations.schema import OPENAI_REQUEST

PROPERTIES = OPENAI_REQUEST["properties"]
QUESTION = [{"role": "user", "content": "What is pagination?"}]


class _Reads(dict):
    """A request body that records the names the route looks up in it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key) -> bool:
        self.read.add(key)
        return super().__contains__(key)


def test_every_option_the_route_reads_is_in_the_schema():
    body = _Reads(model="helper", messages=QUESTION, stream=True, stream_options={})
    chat_input(body)
    sampling = _Reads()
    openai_params.sampling(sampling)
    assert {"logit_bias", "seed", "stop", "top_p", "max_tokens"} <= sampling.read  # (the recorder)
    assert sampling.read <= body.read
    missing = sorted(body.read - set(PROPERTIES))
    assert not missing, f"read by the route but not in its schema: {missing}"  # was 5+


def test_the_schema_has_the_limits_the_route_checks():
    for name, low, high in openai_params.RANGES:
        assert (PROPERTIES[name]["minimum"], PROPERTIES[name]["maximum"]) == (low, high), name
        assert PROPERTIES[name]["nullable"] is True
    for name in openai_params.FLAGS:
        assert PROPERTIES[name]["type"] == "boolean", name
    bias = PROPERTIES["logit_bias"]
    assert bias["type"] == "object"
    assert bias["additionalProperties"] == {"type": "number", "minimum": -100, "maximum": 100}
    stop = [part for part in PROPERTIES["stop"]["oneOf"] if part["type"] == "array"]
    assert stop[0]["maxItems"] == openai_params.MAX_STOP
    for name in ("max_tokens", "max_completion_tokens"):
        assert (PROPERTIES[name]["type"], PROPERTIES[name]["minimum"]) == ("integer", 1)


def _takes(**extra) -> bool:
    try:
        chat_input({"model": "helper", "messages": QUESTION, **extra})
    except APIError:
        return False
    return True


def test_what_the_schema_allows_is_taken_and_its_edges_refused():
    assert _takes(logit_bias={"50256": -100, "1": 100.0})
    assert not _takes(logit_bias={"50256": 101})
    for name in ("n", "logprobs", "top_logprobs", "tool_choice"):
        for value in PROPERTIES[name]["enum"]:
            assert _takes(**{name: value}), (name, value)
    assert _takes(response_format={"type": "text"}, modalities=["text"])
    assert not _takes(logprobs=True)
    assert not _takes(tool_choice="required")
    for name, schema in PROPERTIES.items():  # null is absent wherever the schema says so
        if schema.get("nullable"):
            assert _takes(**{name: None}), name
    for name in openai_params.FLAGS:
        assert _takes(**{name: False}), name
        assert not _takes(**{name: "yes"}), name


@pytest.mark.django_db
def test_the_served_schema_documents_them():
    schema = json.loads(APIClient().get("/v1/schema?format=json").content)
    post = schema["paths"]["/v1/openai/chat/completions"]["post"]
    served = post["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert served["logit_bias"] == json.loads(json.dumps(PROPERTIES["logit_bias"]))
    assert set(PROPERTIES) == set(served)
