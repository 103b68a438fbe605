"""The optional `unstructured` backend, when installed (skipped otherwise: it is not part of the
default install). With the network blocked for the process: a spreadsheet is extracted, and a
format whose partitioner wants the spaCy model either extracts (model installed) or fails with
the backend's sentence, without a single connection attempt.

Run it against a side install without touching .venv:
    pip install --target /tmp/unst -r requirements-unstructured.txt
    .venv/bin/python -c "import sys; sys.path.append('/tmp/unst'); import pytest; \
        sys.exit(pytest.main(['-q', 'datasets/tests/test_unstructured_backend.py']))"
"""

from __future__ import annotations

import socket

import pytest

from datasets.extraction import ExtractionError
from datasets.extraction import unstructured_backend as backend

pytestmark = pytest.mark.skipif(not backend.available(), reason="unstructured is not installed")


@pytest.fixture
def no_network(monkeypatch):
    attempts: list[tuple] = []

    def refuse(*args, **kwargs):
        attempts.append(args[1:])
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def test_offline_extraction_or_a_sentence(tmp_path, no_network):
    openpyxl = pytest.importorskip("openpyxl")
    pptx = pytest.importorskip("pptx")
    book = openpyxl.Workbook()
    book.active.append(["plan", "price"])
    book.active.append(["pro", 30])
    book.save(tmp_path / "prices.xlsx")
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Refund policy"
    slide.placeholders[1].text = "Refunds are issued within 14 days of a request."
    deck.save(tmp_path / "deck.pptx")

    text = " ".join(b.text for b in backend.extract(tmp_path / "prices.xlsx"))
    assert "pro" in text
    assert "30" in text
    if backend.model_installed():
        blocks = list(backend.extract(tmp_path / "deck.pptx"))
        assert any("14 days" in b.text for b in blocks)
    else:
        with pytest.raises(ExtractionError, match="never downloads models"):
            list(backend.extract(tmp_path / "deck.pptx"))
    assert no_network == []
