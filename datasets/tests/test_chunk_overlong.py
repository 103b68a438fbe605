"""Overlong runs without spaces (a 300,000-character word, a long URL, Japanese kana or Thai)
are cut so that every chunk stays within its budget in characters too, and is counted so."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasets.chunking import CHARS_PER_PIECE, chunk_blocks, heading_prefix
from datasets.extraction import Block
from datasets.ingestion import process_document
from datasets.models import Chunk
from datasets.tokens import count_tokens

TITLE = "Notes"


def _chunks(*texts: str, chunk_size: int = 200, overlap: int = 0):
    blocks = [Block(text=t, headings=()) for t in texts]
    return list(chunk_blocks(blocks, title=TITLE, chunk_size=chunk_size, overlap=overlap))


def _body(text: str) -> str:
    prefix = heading_prefix(TITLE, ())
    assert text.startswith(prefix + "\n\n")
    return text[len(prefix) + 2 :]


def _squashed(text: str) -> str:
    return "".join(text.split())


def test_an_overlong_word_is_cut_into_bounded_counted_chunks():
    word = "x" * 300_000
    chunks = _chunks(word)
    prefix_tokens = count_tokens(heading_prefix(TITLE, ()))
    assert len(chunks) >= 300_000 // (200 * CHARS_PER_PIECE)
    for chunk in chunks:
        body = _body(chunk.text)
        assert len(body) <= 200 * CHARS_PER_PIECE
        # The count reflects the characters, not the single [UNK] the embedder reads.
        assert len(body) / CHARS_PER_PIECE <= chunk.token_count - prefix_tokens <= 200
    assert "".join(_body(c.text) for c in chunks) == word


def test_a_long_url_inside_text_is_cut_and_a_short_one_kept_whole():
    blob = "QUJD" * 1_500  # 6,000 characters of base64 with no punctuation to split at
    long_url = f"https://cdn.example.com/assets/{blob}.js"
    short_url = "https://example.com/download?token=" + "a1b2c3d4" * 50  # a 400-char word
    before = "The build script fetches its bundle from a mirror. " * 5
    after = "Then it verifies the checksum and unpacks the archive. " * 5
    text = f"{before}It reads {long_url} first. {after}Fallback: {short_url} is tried next."
    chunks = _chunks(text)
    for chunk in chunks:
        assert len(_body(chunk.text)) <= 200 * CHARS_PER_PIECE
        assert chunk.token_count <= 200 + count_tokens(TITLE)
    assert _squashed("".join(c.text.removeprefix(TITLE) for c in chunks)) == _squashed(text)
    assert any(short_url in c.text for c in chunks)
    assert any("mirror." in c.text and "https://cdn.example.com" in c.text for c in chunks)


def test_cjk_and_thai_without_spaces_are_chunked_within_budget():
    chinese = "这是一个没有空格的中文句子用来测试分块" * 200  # ideographs: a piece each
    japanese = "これはスペースのないにほんごのぶんしょうです" * 200  # kana: one [UNK] per run
    thai = "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำในประโยค" * 200  # one [UNK] per run
    chunks = _chunks(chinese, japanese, thai, chunk_size=120)
    for chunk in chunks:
        body = _body(chunk.text)
        assert len(body) <= 120 * CHARS_PER_PIECE, len(body)
        assert chunk.token_count <= 120 + count_tokens(TITLE)
    assert _squashed("".join(_body(c.text) for c in chunks)) == _squashed(chinese + japanese + thai)
    ideographs = [c for c in chunks if "中文" in c.text]
    assert max(len(_body(c.text)) for c in ideographs) <= 120  # one piece per character
    for chunk in chunks:  # no chunk begins with a combining mark cut from its letter
        assert not ("\u0e31" <= _body(chunk.text)[0] <= "\u0e3a")


@pytest.mark.django_db
def test_uploaded_300k_character_word_gives_bounded_chunks_and_retrieval(api):
    res = api.post("/v1/datasets", {"name": "Blobs", "chunk_size": 200}, format="json")
    assert res.status_code == 201, res.json()
    dataset_id = res.json()["id"]
    upload = SimpleUploadedFile("blob.txt", b"x" * 300_000, content_type="text/plain")
    res = api.post(f"/v1/datasets/{dataset_id}/documents", {"file": upload}, format="multipart")
    assert res.status_code == 202, res.json()
    doc_id = res.json()["id"]
    assert process_document(doc_id) == "ready"
    chunks = list(Chunk.objects.filter(document_id=doc_id).values_list("text", "token_count"))
    assert len(chunks) >= 300_000 // (200 * CHARS_PER_PIECE)
    for text, token_count in chunks:
        assert len(text) <= 200 * CHARS_PER_PIECE + 100  # the body and a short title prefix
        assert token_count >= (len(text) - 100) / CHARS_PER_PIECE
    assert sum(text.count("x") for text, _ in chunks) >= 300_000
    res = api.post(
        "/v1/retrieve", {"datasets": [dataset_id], "query": "xxxx", "top_k": 5}, format="json"
    )
    assert res.status_code == 200, res.json()
    data = res.json()["data"]
    assert data
    assert all(len(hit["text"]) <= 200 * CHARS_PER_PIECE + 100 for hit in data)
