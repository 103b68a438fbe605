"""What the OpenAI route refuses is what docs/api.md ("Strict chat requests") and README ("Input
and access rules") say it refuses: `logprobs`/`top_logprobs`, `modalities` and an unknown
`role` became 400s (4149fa6, be5a22a) while both still listed only `n`, `tool_choice` and
`response_format`. And docs/api.md says a failed JSON chat names its stored turn (643a87c)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from chatbot_project.errors import APIError
from conversations.openai_compat import ROLES, chat_input

QUESTION = [{"role": "user", "content": "What is pagination?"}]
REFUSED = {  # the request's extra fields -> the words the docs must name
    "n": ({"n": 2}, ["`n`"]),
    "tool_choice": ({"tool_choice": "required"}, ["`tool_choice`"]),
    "response_format": ({"response_format": {"type": "json_object"}}, ["`response_format`"]),
    "logprobs": ({"logprobs": True}, ["`logprobs`"]),
    "top_logprobs": ({"top_logprobs": 3}, ["`top_logprobs`"]),
    "modalities": ({"modalities": ["text", "audio"]}, ["`modalities`"]),
    "role": (
        {"messages": [{"role": "User", "content": "Hi"}, *QUESTION]},
        ["`role`", *(f"`{role}`" for role in ROLES)],
    ),
}


def _bullet(path: str, start: str) -> str:
    """The Markdown bullet beginning with ``start``, its lines joined."""
    text = (Path(settings.BASE_DIR) / path).read_text()
    match = re.search(rf"^- {re.escape(start)}.*?(?=^- |^#|\Z)", text, re.M | re.S)
    assert match, f"{path}: no bullet starting {start!r}"
    return " ".join(match.group(0).split())


DOCS = {
    "docs/api.md": _bullet("docs/api.md", "**Strict chat requests.**"),
    "README.md": _bullet("README.md", "`/v1/openai/chat/completions` honours"),
}


@pytest.mark.parametrize("name", REFUSED)
def test_each_refusal_is_documented(name):
    extra, words = REFUSED[name]
    with pytest.raises(APIError):
        chat_input({"model": "helper", "messages": QUESTION, **extra})
    for path, bullet in DOCS.items():
        missing = [word for word in words if word not in bullet]
        assert not missing, f"{path} does not name {missing} among the OpenAI route's refusals"


def test_api_md_says_a_failed_json_chat_names_its_turn():
    bullet = _bullet("docs/api.md", "**Errors of a JSON chat that had started.**")
    for word in ("`details`", "`conversation_id`", "`message_id`", "`upstream_error`"):
        assert word in bullet
