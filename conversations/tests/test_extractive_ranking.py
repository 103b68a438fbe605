"""Which sentences the offline ``extractive`` provider quotes first (bench/extractive.py measures
it over drf-docs and the demo docs): the best-matching sentence opens the answer whatever its
source's rank; words match across inflections and inside identifiers; headings give context;
list markers and code lines are not quoted."""

from __future__ import annotations

import re
from types import SimpleNamespace

from conversations.extractive import _sentences, _terms, extractive_answer


def _src(text: str) -> SimpleNamespace:
    return SimpleNamespace(text=text, document_title=text.split(" > ", 1)[0])


def _quoted(answer: str) -> list[tuple[str, int]]:
    body = answer.split(": ", 1)[1]
    return [(s.strip(), int(n)) for s, n in re.findall(r"(.+?) \[(\d+)\]", body)]


def test_the_best_sentence_opens_the_answer_even_from_a_lower_ranked_source():
    sources = [
        _src("Guide > Caching\nCaching is configured per view. Views are classes."),
        _src("Guide > Throttling\nAnonRateThrottle limits anonymous clients to a number of "
             "requests per day."),
    ]  # fmt: skip
    quoted = _quoted(extractive_answer("How do I limit anonymous requests per day?", sources))
    assert quoted[0] == (
        "AnonRateThrottle limits anonymous clients to a number of requests per day.",
        2,
    )


def test_inflections_and_identifier_parts_match():
    assert _terms("runs running uploaded queries indexes") == {"run", "upload", "query", "index"}
    assert _terms("running") == _terms("runs") == _terms("run")
    assert _terms("uploaded") == _terms("uploads") == {"upload"}
    assert "upload" in _terms("`MAX_UPLOAD_BYTES` (50 MB)")
    assert _terms("pass") == _terms("passed")
    assert _terms("added") == {"add"}
    sources = [
        _src("Running > Tests\nThe tests run against the real database; nothing is mocked."),
        _src("Running > Quick start\n`make run` creates a virtual environment, installs the "
             "packages and runs the web server and a worker side by side."),
    ]  # fmt: skip
    quoted = _quoted(extractive_answer("How do I run the web server and the worker?", sources))
    assert quoted[0][1] == 2


def test_a_heading_gives_its_sentences_context():
    sources = [
        _src("Docs > Uploads\nSome uploads take long to process in the background."),
        _src("Docs > Formats\nPDF, DOCX, Markdown, HTML, JSON and plain text are accepted."),
    ]
    quoted = _quoted(extractive_answer("What formats are supported?", sources))
    assert quoted[0] == ("PDF, DOCX, Markdown, HTML, JSON and plain text are accepted.", 2)


def test_list_markers_and_code_lines_are_not_quoted():
    text = (
        "Guide > Permissions\n"
        "- Owners may edit their objects at any time.\n"
        "- Everyone else may only read the objects.\n"
        "\n"
        "class IsOwnerOrReadOnly(permissions.BasePermission):\n"
        "\n"
        "return obj.owner == request.user\n"
        "\n"
        "urlpatterns = [path('objects/', views.objects)]\n"
    )
    assert _sentences(text) == [
        "Owners may edit their objects at any time.",
        "Everyone else may only read the objects.",
    ]


def test_sections_sharing_a_chunk_each_give_their_own_context():
    # datasets/chunk_packing.py joins small sections, each after its own "title > ..." line.
    chunk = _src(
        "Docs > Uploads\n\nSome uploads take long to process in the background.\n\n"
        "Docs > Formats\n\nPDF, DOCX, Markdown, HTML, JSON and plain text are accepted."
    )
    assert _sentences(chunk.text) == [
        "Some uploads take long to process in the background.",
        "PDF, DOCX, Markdown, HTML, JSON and plain text are accepted.",
    ]
    other = _src("Docs > Uploads\n\nAll uploads are stored as files that are accepted.")
    quoted = _quoted(extractive_answer("What formats are supported?", [other, chunk]))
    assert quoted[0] == ("PDF, DOCX, Markdown, HTML, JSON and plain text are accepted.", 2)


def test_a_joined_section_after_an_untitled_start_is_not_quoted():
    # A document's text before its first heading has the bare title as its prefix line.
    text = (
        "Handbook\n\nThis handbook explains the leave rules for everyone.\n\n"
        "Handbook > Leave > Parental leave\n\nParents get sixteen weeks of paid leave."
    )
    assert "Handbook > Leave > Parental leave" not in " ".join(_sentences(text))
    quoted = _quoted(extractive_answer("How long is parental leave?", [_src(text)]))
    assert quoted[0] == ("Parents get sixteen weeks of paid leave.", 1)
