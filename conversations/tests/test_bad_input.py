"""Input PostgreSQL cannot store is refused up front (400 ``invalid_request``, nothing written)
instead of answered and then lost when saved, or a 500: NUL, unpaired surrogates, NaN and
overflowing numbers, nesting deeper than 100 (chatbot_project/jsonbody.py). Also: a scope's
``redact_terms`` reach the citations, and a key limited to scopes never runs without one."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chatbot_project.jsonbody import BadJSON, loads, problem, storable
from conversations.models import Conversation, Message
from conversations.tests.conftest import build_kb
from conversations.tests.factories import ScopeFactory
from conversations.tests.helpers import chat

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::Warning")]

Q = "How do I limit anonymous clients per day?"


def _post(client, path: str, body: bytes | str, key: str):
    return client.post(
        path, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )


def _invalid(res) -> str:
    assert res.status_code == 400, res.content
    body = res.json()
    assert body["error"]["type"] == "invalid_request"
    return body["error"]["message"]


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ('{"bot":"helper","message":"hi","user":"u\\u0000x"}', "`user` contains the NUL"),
        ('{"bot":"helper","message":"hello\\u0000world"}', "`message` contains the NUL"),
        ('{"bot":"helper","message":"hi","metadata":{"k":"v\\u0000"}}', "`metadata.k`"),
        ('{"bot":"helper","message":"hi","metadata":{"x":NaN}}', "NaN is not a JSON number"),
        ('{"bot":"helper","message":"hi","metadata":{"x":Infinity}}', "Infinity"),
        ('{"bot":"helper","message":"hi","metadata":{"x":1e400}}', "too large"),
        ('{"bot":"helper","message":"lone \\ud800 surrogate"}', "unpaired UTF-16 surrogate"),
        ('{"bot":"helper","message":"hi","stream":"yes"}', "`stream` must be true or false"),
        ('{"bot":"helper","message":"hi","metadata":' + "[" * 120 + "]" * 120 + "}", "nested"),
        ("[" * 5000 + "]" * 5000, "nested"),
    ],
)
def test_chat_refuses_what_cannot_be_stored(client, key, openai_stub, raw, words):
    for accept in ("application/json", "text/event-stream"):
        res = client.post(
            "/v1/chat", raw, content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_ACCEPT=accept,
        )  # fmt: skip
        assert words in _invalid(res)
    assert not Conversation.objects.exists()
    assert openai_stub.chat_requests() == []


def test_fast_lane_hands_bad_bodies_to_django_for_the_same_400(key, openai_stub):
    from conversations.tests.test_fastlane import _asgi, _call

    res = _call(
        _asgi(), b'{"bot":"helper","message":"hi\\u0000"}',
        {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}, path="/v1/chat",
    )  # fmt: skip
    assert res.status_code == 400
    assert "NUL" in res.json()["error"]["message"]
    res = _call(
        _asgi(), b'{"bot":"helper","query":"x\\ud800"}',
        {"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )  # fmt: skip
    assert res.status_code == 400
    assert "surrogate" in res.json()["error"]["message"]


def test_openai_route_and_other_json_routes_refuse_nul(client, key):
    body = '{"model":"helper","messages":[{"role":"user","content":"hi\\u0000"}]}'
    assert "NUL" in _invalid(_post(client, "/v1/openai/chat/completions", body, key))
    assert "NUL" in _invalid(_post(client, "/v1/datasets", '{"name":"a\\u0000"}', key))
    assert "nested" in _invalid(_post(client, "/v1/datasets", "[" * 5000 + "]" * 5000, key))
    res = client.patch(
        "/v1/tenant", '{"quotas":{"a":"\\u0000"}}', content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )  # fmt: skip
    assert "`quotas.a` contains the NUL" in _invalid(res)


def test_multipart_fields_are_checked_too(client, kb, key):
    url = f"/v1/datasets/{kb.dataset.id}/documents"
    for field, value, words in (
        ("metadata", '{"a": NaN}', "NaN"),
        ("title", "bad\x00title", "`title` contains the NUL"),
    ):
        data = {"file": SimpleUploadedFile("note.txt", b"Some text.", "text/plain"), field: value}
        res = client.post(url, data, HTTP_AUTHORIZATION=f"Bearer {key}")
        assert words in _invalid(res)


def test_an_answer_with_nul_from_the_model_is_saved_without_it(client, key, openai_stub):
    openai_stub.script.reply = "Use Anon\x00RateThrottle [1]."
    status, body = chat(client, key, bot="helper", message=Q)
    assert status == 200, body
    stored = Message.objects.get(id=body["message_id"])
    assert stored.content == "Use AnonRateThrottle [1]."


def test_jsonbody_units():
    assert loads(b'{"a": [1, 2.5, "\\ud83d\\ude00"]}') == {"a": [1, 2.5, "\U0001f600"]}
    for raw in (b"", b"{", b"[NaN]", b"[-Infinity]", b'{"\\u0000": 1}', b"[1e999]"):
        with pytest.raises(BadJSON):
            loads(raw)
    assert problem({"a": {"b": [0, float("nan")]}}) == "`a.b.1` must be a finite number."
    assert problem({"ok": "fine", "n": 1}) is None
    assert storable("a\x00b\ud800c") == "ab?c"
    assert storable("plain") == "plain"


# --------------------------------------------------------------------------- redaction
def test_redact_terms_reach_citations_and_retrieval(client, kb, tenant, key, openai_stub):
    ScopeFactory(tenant=tenant, slug="open", redact_terms=["AnonRateThrottle"])
    openai_stub.script.reply = "See [1]."
    status, body = chat(client, key, bot="helper", message=Q, scope="open")
    assert status == 200, body
    assert body["citations"]
    assert "AnonRateThrottle" not in json.dumps(body)
    assert any("[redacted]" in c["snippet"] for c in body["citations"])
    status, events = chat(client, key, bot="helper", message=Q, scope="open", stream=True)
    assert "AnonRateThrottle" not in json.dumps(dict(events).get("citations"))
    detail = client.get(
        f"/v1/conversations/{body['conversation_id']}", HTTP_AUTHORIZATION=f"Bearer {key}"
    ).json()
    assert "AnonRateThrottle" not in json.dumps(detail)
    res = _post(
        client, "/v1/retrieve", json.dumps({"bot": "helper", "query": Q, "scope": "open"}), key
    )
    assert res.status_code == 200
    assert res.json()["data"]
    assert "AnonRateThrottle" not in res.content.decode()


def test_redact_terms_reach_the_source_and_headings_of_a_document_named_by_them(
    client, kb, tenant, key, openai_stub
):
    # A document without a file name or URL has its title as `source`; headings are its text.
    ScopeFactory(tenant=tenant, slug="open", redact_terms=["Throttling"])
    kb.documents["Throttling"].chunks.update(metadata={"headings": ["Throttling", "Per day"]})
    openai_stub.script.reply = "See [1]."
    status, body = chat(client, key, bot="helper", message=Q, scope="open")
    assert status == 200, body
    assert body["citations"]
    assert "Throttling" not in json.dumps(body)
    status, events = chat(client, key, bot="helper", message=Q, scope="open", stream=True)
    assert "Throttling" not in json.dumps(dict(events).get("citations"))
    res = _post(
        client, "/v1/retrieve", json.dumps({"bot": "helper", "query": Q, "scope": "open"}), key
    )
    assert res.status_code == 200
    assert {"[redacted]", "Per day"} <= {h for r in res.json()["data"]
                                          for h in r["metadata"].get("headings", [])}  # fmt: skip
    assert "Throttling" not in res.content.decode()


# --------------------------------------------------------------------------- scope-limited keys
def test_scope_limited_key_cannot_drop_its_scope(client, kb, tenant, make_key, openai_stub):
    public = ScopeFactory(tenant=tenant, slug="public")
    other = ScopeFactory(tenant=tenant, slug="other")
    key = make_key(tenant, scopes=[public])
    for status, body in (
        chat(client, key, bot="helper", message=Q),
        (
            (r := _post(client, "/v1/retrieve", json.dumps({"bot": "helper", "query": Q}), key))
            .status_code, r.json(),
        ),
        (
            (r := _post(client, "/v1/openai/chat/completions", json.dumps(
                {"model": "helper", "messages": [{"role": "user", "content": Q}]}), key))
            .status_code, r.json(),
        ),
    ):  # fmt: skip
        assert status == 403, body
        assert body["error"]["type"] == "permission_denied"
        assert "send `scope`" in body["error"]["message"]
    kb.bot.default_scope = other  # a default the key may not use: refused too
    kb.bot.save()
    assert chat(client, key, bot="helper", message=Q)[0] == 403
    kb.bot.default_scope = public  # one it may use: the chat runs under it
    kb.bot.save()
    status, body = chat(client, key, bot="helper", message=Q)
    assert status == 200, body
    assert Conversation.objects.get(id=body["conversation_id"]).scope_id == public.id
    assert chat(client, key, bot="helper", message=Q, scope="public")[0] == 200
    assert chat(client, make_key(tenant), bot="helper", message=Q)[0] == 200  # unlimited key


def test_malformed_bearer_header_gets_a_sentence(client):
    for header in ("Bearer", "Bearer a b"):
        res = client.get("/v1/bots", HTTP_AUTHORIZATION=header)
        assert res.status_code == 401
        message = res.json()["error"]["message"]
        assert "ErrorDetail" not in message, message
        assert "{" not in message, message


def test_multipart_title_over_500_characters_is_refused_as_in_json(client, kb, key):
    url = f"/v1/datasets/{kb.dataset.id}/documents"
    data = {"file": SimpleUploadedFile("n.txt", b"Some text.", "text/plain"), "title": "t" * 501}
    assert "500 characters" in _invalid(client.post(url, data, HTTP_AUTHORIZATION=f"Bearer {key}"))
    res = client.post(
        url, {"text": "Some text.", "title": "t" * 501}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )  # fmt: skip
    assert "500 characters" in _invalid(res)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/conversations?user=%00",
        "/v1/conversations?bot=a%00b",
        "/v1/usage?bot=%00",
        "/v1/datasets?x%00=1",
    ],
)
def test_nul_in_a_query_string_is_a_400(client, key, path):
    assert "NUL" in _invalid(client.get(path, HTTP_AUTHORIZATION=f"Bearer {key}"))


def test_limited_keys_read_only_their_bots_and_scopes(client, kb, tenant, make_key, openai_stub):
    other = build_kb(tenant, slug="other").bot
    red = ScopeFactory(tenant=tenant, slug="red")
    full = make_key(tenant)
    _, mine = chat(client, full, bot="helper", message=Q, scope="red")
    _, theirs = chat(client, full, bot="other", message=Q)
    bot_key = make_key(tenant, bots=[kb.bot])
    scope_key = make_key(tenant, scopes=[red])
    for key in (bot_key, scope_key):
        auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
        listed = client.get("/v1/conversations", **auth).json()["data"]
        assert [c["id"] for c in listed] == [mine["conversation_id"]]
        assert (
            client.get(f"/v1/conversations/{theirs['conversation_id']}", **auth).status_code == 404
        )
        assert (
            client.delete(f"/v1/conversations/{theirs['conversation_id']}", **auth).status_code
            == 404
        )
        usage = client.get("/v1/usage", **auth).json()
        assert {r["bot"] for r in usage["data"]} == {"helper"}, usage
        res = client.get(f"/v1/documents/{kb.documents['Throttling'].id}/chunks", **auth)
        assert res.status_code == 403
        res = client.post(
            f"/v1/messages/{theirs['message_id']}/feedback", {"rating": "up"},
            content_type="application/json", **auth,
        )  # fmt: skip
        assert res.status_code == 404
    assert (
        len(client.get("/v1/conversations", HTTP_AUTHORIZATION=f"Bearer {full}").json()["data"])
        == 2
    )
    assert other is not None


def test_usage_dates_must_be_dates(client, key):
    for value in ("2026-12-02xyz", "2026-12-02T23:00:00+05:00", "02/12/2026", ""):
        res = client.get(f"/v1/usage?from={value}", HTTP_AUTHORIZATION=f"Bearer {key}")
        assert "`from` must be a date" in _invalid(res)
    assert (
        client.get("/v1/usage?to=2026-12-02", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    )


def test_one_long_word_counts_by_its_length_in_prompts_and_usage():
    from conversations.prompting import count_tokens

    assert count_tokens("x" * 80_000) >= 8_000
    assert count_tokens("How do I limit anonymous clients?") < 12


def test_a_history_turn_too_long_for_the_budget_is_not_counted(monkeypatch):
    # The OpenAI route's client sends the history: counting a 1.8 MB unbroken run took ~5 s of
    # CPU per request (a [UNK] is counted by its length), only to find it does not fit.
    from conversations import prompting

    counted: list[int] = []
    real = prompting.count_tokens
    monkeypatch.setattr(prompting, "count_tokens", lambda t: counted.append(len(t)) or real(t))
    history = [
        {"role": "user", "content": "x" * 1_800_000},
        {"role": "assistant", "content": "That is long."},
        {"role": "user", "content": "Short question?"},
        {"role": "assistant", "content": "Short answer."},
    ]
    kept = prompting.trim_history(history, 2000)
    assert [t["content"] for t in kept] == ["Short question?", "Short answer."]
    assert max(counted) < 100
    spaced = [{"role": "user", "content": "w\n" + "\t " * 20 * 1000}]  # whitespace: no piece
    assert prompting.trim_history(spaced, 4 + real(spaced[0]["content"])) == spaced


def test_dataset_names_refuse_control_characters(client, key):
    res = _post(client, "/v1/datasets", json.dumps({"name": "a\x01b"}), key)
    assert "control characters" in _invalid(res)
    assert _post(client, "/v1/datasets", json.dumps({"name": "Ünïcode ok"}), key).status_code == 201
