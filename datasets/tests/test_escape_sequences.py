"""Text with terminal escape sequences (a log file with colours: ESC [ 3 1 m) is text: it is
ingested with the sequences removed, not refused as binary data for its ESC bytes; binary data
is still refused with its sentence."""

from __future__ import annotations

import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasets.extraction import normalise
from datasets.ingestion import process_document
from datasets.models import Chunk

pytestmark = pytest.mark.django_db

RED, GREEN, BOLD, RESET = "\x1b[31m", "\x1b[32m", "\x1b[1;33m", "\x1b[0m"
LOG = (
    f"2026-12-01 10:00:01 {GREEN}INFO{RESET} server started on port 8000\n"
    f"2026-12-01 10:00:02 {RED}ERROR{RESET} database connection refused by the host\n"
    f"2026-12-01 10:00:03 {BOLD}WARN{RESET} retrying the connection in five seconds\n"
    "2026-12-01 10:00:04 \x1b]8;;https://example.com/runbook\x07runbook\x1b]8;;\x07 opened\n"
    "2026-12-01 10:00:05 \x1b(B\x1b[Kcharset reset, line cleared\n"
)


def _upload(api, name: str, content: bytes):
    res = api.post("/v1/datasets", {"name": "Logs"}, format="json")
    assert res.status_code == 201, res.json()
    return api.post(
        f"/v1/datasets/{res.json()['id']}/documents",
        {"file": SimpleUploadedFile(name, content)},
        format="multipart",
    )


def _text(document_id) -> str:
    return " ".join(Chunk.objects.filter(document_id=document_id).values_list("text", flat=True))


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("app.log", LOG.encode()),
        ("app.log", (LOG * 40).encode()),  # ~8 KB: every sniffed line coloured
        ("app.txt", LOG.encode("utf-16")),
    ],
)
def test_a_log_with_colour_codes_is_ingested_without_them(api, name, content):
    res = _upload(api, name, content)
    assert res.status_code == 202, res.json()
    assert res.json()["mime_type"] == "text/plain"
    assert process_document(res.json()["id"]) == "ready"
    text = _text(res.json()["id"])
    assert "INFO server started" in text
    assert "ERROR database connection refused" in text
    assert "runbook opened" in text
    assert "charset reset, line cleared" in text
    assert "\x1b" not in text
    assert "[0m" not in text
    assert "[31m" not in text
    assert "8;;" not in text


def test_posted_text_loses_its_escape_sequences_too(api):
    res = api.post("/v1/datasets", {"name": "Logs"}, format="json")
    res = api.post(
        f"/v1/datasets/{res.json()['id']}/documents", {"text": LOG, "title": "Log"}, format="json"
    )
    assert res.status_code == 202, res.json()
    assert process_document(res.json()["id"]) == "ready"
    assert "WARN retrying" in _text(res.json()["id"])


def test_normalise_removes_whole_sequences_and_keeps_the_text():
    assert normalise(f"a {RED}red{RESET} b") == "a red b"
    assert normalise("\x1b[38;5;208morange\x1b[m \x1b7saved\x1b8") == "orange saved"
    assert normalise("lone \x1b at the end \x1b") == "lone   at the end  "  # controls: spaces


@pytest.mark.parametrize(
    "content",
    [
        random.Random(5).randbytes(9000).replace(b"\x00", b"\x1b"),
        b"\x1b\x01\x02\x1b\x10\x1b\x03" * 600,  # ESC bytes that begin no escape sequence
        bytes(range(1, 32)) * 300,
    ],
)
def test_binary_data_is_still_refused(api, content):
    res = _upload(api, "notes.log", content)
    assert res.status_code == 415, res.json()
    error = res.json()["error"]
    assert error["type"] == "unsupported_media_type"
    assert error["message"].startswith("This file looks like binary data, which cannot be")
