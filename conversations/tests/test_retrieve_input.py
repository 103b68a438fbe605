"""/v1/retrieve's input: the direct check of plain requests gives exactly DRF's validated data,
and everything it does not take goes to DRF (same errors as before)."""

from __future__ import annotations

import pytest

from chatbot_project.errors import APIError
from conversations.apis import RetrieveInput, _plain_retrieve_input, retrieve_input

PLAIN = [
    {"bot": "helper", "query": "How do I throttle?"},
    {"bot": "helper", "query": "  padded question  ", "top_k": 10, "mode": "vector"},
    {"bot": "4b0c8f0e-5d7e-4d57-9a55-0d8a8e2a4b11", "query": "q", "mode": "keyword"},
    {"bot": "helper", "query": "q", "scope": "public", "score_threshold": 0.25, "top_k": 1},
    {"bot": "helper", "query": "q", "score_threshold": 1, "top_k": 50, "mode": "hybrid"},
    {"bot": "helper", "query": "x" * 10_000},
]
NOT_PLAIN = [
    None,
    [],
    "text",
    {},
    {"query": "q"},  # neither bot nor datasets
    {"bot": "helper", "query": "q", "datasets": ["4b0c8f0e-5d7e-4d57-9a55-0d8a8e2a4b11"]},
    {"bot": "helper", "query": "   "},
    {"bot": "helper", "query": ""},
    {"bot": "helper", "query": 5},
    {"bot": "helper", "query": "x" * 10_001},
    {"bot": "helper", "query": "nul\x00char"},
    {"bot": "helper", "query": "surrogate \ud800"},
    {"bot": " helper ", "query": "q"},
    {"bot": "", "query": "q"},
    {"bot": 7, "query": "q"},
    {"bot": "helper", "query": "q", "top_k": 0},
    {"bot": "helper", "query": "q", "top_k": 51},
    {"bot": "helper", "query": "q", "top_k": True},
    {"bot": "helper", "query": "q", "top_k": "5"},
    {"bot": "helper", "query": "q", "top_k": 5.0},
    {"bot": "helper", "query": "q", "mode": "semantic"},
    {"bot": "helper", "query": "q", "score_threshold": 1.5},
    {"bot": "helper", "query": "q", "score_threshold": float("nan")},
    {"bot": "helper", "query": "q", "score_threshold": False},
    {"bot": "helper", "query": "q", "scope": ""},
    {"bot": "helper", "query": "q", "dataset": "typo"},
]


@pytest.mark.parametrize("payload", PLAIN)
def test_plain_requests_match_drf(payload):
    drf = RetrieveInput(data=payload)
    assert drf.is_valid(), drf.errors
    assert _plain_retrieve_input(payload) == dict(drf.validated_data)
    assert retrieve_input(payload) == dict(drf.validated_data)


@pytest.mark.parametrize("payload", NOT_PLAIN)
def test_everything_else_goes_to_drf(payload):
    assert _plain_retrieve_input(payload) is None
    drf = RetrieveInput(data=payload if isinstance(payload, dict) else {})
    if drf.is_valid():
        assert retrieve_input(payload) == dict(drf.validated_data)
    else:
        with pytest.raises(APIError) as exc:
            retrieve_input(payload)
        assert exc.value.status_code == 400
