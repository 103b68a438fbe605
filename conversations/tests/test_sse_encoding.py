"""The SSE encoder's per-token fast path writes the same bytes as the general one."""

from __future__ import annotations

import json

import pytest

from conversations.streaming import sse

TEXTS = ["hello", "", 'quote " back \\ slash', "ünïcødé ☃ 🎉", "\n\t\r\x00\x1f", "\u2028", "</s>"]


@pytest.mark.parametrize("text", TEXTS)
def test_delta_fast_path_matches_json_dumps(text):
    expected = json.dumps({"text": text}, separators=(",", ":"))
    assert sse("delta", {"text": text}) == f"event: delta\ndata: {expected}\n\n".encode()


def test_other_events_are_compact_json():
    data = {"usage": {"total_tokens": 3}, "finish_reason": "stop", "note": "é"}
    expected = json.dumps(data, separators=(",", ":"))
    assert sse("end", data) == f"event: end\ndata: {expected}\n\n".encode()
    assert sse("delta", {"text": "a", "extra": 1}).startswith(b'event: delta\ndata: {"text":"a",')
