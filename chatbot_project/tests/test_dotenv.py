"""`.env` is read as docker compose reads it (chatbot_project/env.dotenv_values), so that
`cp .env.example .env` works for `make run` too: its trailing comments were part of the values
(`DEBUG=false   # ...` failed at start; `DATABASE_URL=   # postgresql://...` was a URL)."""

from __future__ import annotations

from pathlib import Path

from chatbot_project.env import dotenv_values

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_the_example_file_reads_without_its_comments():
    values = dotenv_values(EXAMPLE.read_text())
    assert values["DEBUG"] == "false"
    assert values["DATABASE_URL"] == ""
    assert values["SECRET_KEY_FALLBACKS"] == ""
    assert values["ASGI_SERVER"] == "uvicorn"
    assert not [name for name, value in values.items() if "#" in value]


def test_quotes_export_and_hashes_inside_values():
    text = "\n".join(
        [
            "# a comment",
            "export A=1",
            'B="x # not a comment"',
            "C='single'",
            "D=pa#ss",  # no whitespace before #: part of the value
            "E=value\t# tab then a comment",
            "F=",
            "G=   # only a comment",
            "not a setting",
        ]
    )
    assert dotenv_values(text) == {
        "A": "1", "B": "x # not a comment", "C": "single", "D": "pa#ss", "E": "value",
        "F": "", "G": "",
    }  # fmt: skip
