"""DOCX files that are odd but real. One whose XML is mostly repetition (a big table of
empty cells: a form, a schedule) compresses past 200:1; it was refused as a zip bomb
(datasets/filetypes.check_zip) although it expands to a few MB (the total-size cap still
refuses real bombs: test_api.py). One nesting tables past lxml's depth cap gets a sentence
saying so, not "damaged"."""

from __future__ import annotations

import zipfile

import pytest

from datasets.extraction import ExtractionError, extract

CELL = '<w:tc><w:tcPr><w:tcW w:w="1000" w:type="dxa"/></w:tcPr><w:p/></w:tc>'


def test_a_docx_with_a_huge_empty_table_is_read(tmp_path):
    import docx

    document = docx.Document()
    document.add_heading("Rota", level=1)
    document.add_paragraph("Fill in one row per shift.")
    document.add_table(rows=1, cols=1)
    source = tmp_path / "base.docx"
    document.save(source)
    path = tmp_path / "rota.docx"
    with (
        zipfile.ZipFile(source) as zin,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout,
    ):
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "word/document.xml":
                row = ("<w:tr>" + CELL * 10 + "</w:tr>").encode()
                head, sep, tail = data.partition(b"</w:tbl>")
                data = head + row * 10_000 + sep + tail  # ~6.8 MB of empty cells
            zout.writestr(info.filename, data)
    with zipfile.ZipFile(path) as zf:
        part = zf.getinfo("word/document.xml")
    assert part.file_size > 200 * part.compress_size  # the ratio that was refused

    texts = [text for section in extract(path, "docx") for text in section.texts]
    assert texts[0] == "Fill in one row per shift."


def test_tables_nested_past_the_xml_readers_depth_get_their_own_sentence(tmp_path):
    """lxml refuses XML deeper than 256 levels: 300 nested tables were "damaged"."""
    import docx

    document = docx.Document()
    document.add_paragraph("Intro.")
    source = tmp_path / "base.docx"
    document.save(source)
    nested = b"<w:p><w:r><w:t>deep</w:t></w:r></w:p>"
    for _ in range(300):
        nested = b"<w:tbl><w:tr><w:tc>" + nested + b"</w:tc></w:tr></w:tbl>"
    path = tmp_path / "nested.docx"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "word/document.xml":
                data = data.replace(b"<w:sectPr", nested + b"<w:p/><w:sectPr", 1)
            zout.writestr(info.filename, data)
    with pytest.raises(ExtractionError, match="deeper than the XML reader allows"):
        list(extract(path, "docx"))
