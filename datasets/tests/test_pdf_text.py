"""PDF text cleaning: pdfium's hyphen markers rejoin words; no noncharacters or controls leak."""

from __future__ import annotations

import re

import pytest

from datasets.extraction.pdf import _clean
from datasets.ingestion import run_pipeline

# Noncharacters, controls (C0 but tab/newline, DEL, C1) and the soft hyphen: none is text.
_STRAY = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\ufdd0-\ufdef\ufffe\uffff\U0001fffe\U0010ffff]"
)


def test_clean_joins_words_at_hyphen_markers_and_drops_stray_characters():
    raw = (
        "Lorem adip\ufffeiscing elit, con\x02 \r\nsectetuer; tris\u00ad\r\ntique "
        "soft\u00adly (Schwarz\ufffeWeiß) INTER\ufffeNATIONAL.\r\n"
        "nul\x00here, non\uffffchar\U0010ffff, c1\x85next, last\ufffe"
    )
    assert _clean(raw) == (
        "Lorem adipiscing elit, consectetuer; tristique "
        "softly (Schwarz-Weiß) INTERNATIONAL.\n"
        "nul here, nonchar, c1 next, last"
    )


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("multicolumn.pdf", ("adipiscing", "rhoncus", "consectetuer", "Maecenas")),
        ("minimal-document.pdf", ("takimata",)),
        ("with-attachment.pdf", ("takimata",)),
    ],
)
def test_pdf_words_split_at_line_ends_come_out_joined(corpus, name, words):
    drafts, _, _ = run_pipeline(
        corpus / "pdf" / name, "pdf", title="", chunk_size=200, chunk_overlap=30, embed=False
    )
    text = "\n".join(d.text for d in drafts)
    assert "\ufffe" not in text
    assert not _STRAY.search(text), _STRAY.findall(text)
    for word in words:
        assert re.search(rf"\b{word}\b", text), word


def test_a_filled_pdf_forms_values_are_read(corpus):
    # pdfium's page text leaves form fields out: "Alice" and "Bob" were lost.
    drafts, _, _ = run_pipeline(
        corpus / "pdf" / "libreoffice-form.pdf", "pdf", title="form", chunk_size=200,
        chunk_overlap=30, embed=False,
    )  # fmt: skip
    text = "\n".join(d.text for d in drafts)
    assert "First Name: Alice" in text
    assert "First Name_2: Bob" in text
    assert "Last Name:" not in text  # empty fields say nothing


def test_a_pdf_without_a_form_gets_no_form_block(corpus):
    drafts, _, _ = run_pipeline(
        corpus / "pdf" / "minimal-document.pdf", "pdf", title="m", chunk_size=200,
        chunk_overlap=30, embed=False,
    )  # fmt: skip
    assert not any("Form fields" in d.text for d in drafts)
