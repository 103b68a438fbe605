"""Build static/chatbot/widget.js, the one file a host page loads, from its sources.

    python -m chatbot_project.build_widget          # rewrite static/chatbot/widget.js
    python -m chatbot_project.build_widget --check  # exit 1 if widget.js is not the build

The sources live in static_src/widget/, outside static/, so that collectstatic and WhiteNoise
never serve the parts (a page loading one of them alone would get half a widget and globals).
SOURCES is the fixed order: header.js (the file's doc comment) first, then the modules, each
written at the top level and indented into one IIFE that shares their names, so widget.js stays
a single classic script (window.ChatbotWidget is there as soon as it runs). Standard library only.
"""

from __future__ import annotations

import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SOURCE_DIR = BASE_DIR / "static_src" / "widget"
OUTPUT = BASE_DIR / "static" / "chatbot" / "widget.js"
HEADER = "header.js"
SOURCES = [
    "i18n.js",  # the widget's own texts (English), the language choice, data-texts
    "i18n_de_fr.js",  # built-in German and French texts
    "i18n_es_ar.js",  # built-in Spanish and Arabic texts
    "dom.js",  # constants, el(), icon(), ICONS
    "markdown.js",  # safeHref, link, the safe Markdown renderer
    "stream.js",  # SSE parser, error messages, streamChat
    "storage.js",  # localStorage (or memory), the visitor's id
    "citations.js",  # citation chips and [n] references
    "panel.js",  # the panel's DOM
    "messages.js",  # the transcript's message views
    "feedback.js",  # thumbs up / down under answers, POST /v1/messages/{id}/feedback
    "retry.js",  # the Retry button under a failed (or interrupted) last answer
    "refusal.js",  # the input disabled (with a notice) once the key itself is refused
    "mount.js",  # one widget: config, state, sending, events
    "main.js",  # window.ChatbotWidget and the auto-mount
]
NOTICE = (
    "/* GENERATED FILE, do not edit: built by `python -m chatbot_project.build_widget` from\n"
    " * static_src/widget/*.js (edit those, rebuild, commit both; docs/widget.md). */\n"
)


def _indent(text: str) -> str:
    return "".join(("  " + line) if line.strip() else line for line in text.splitlines(True))


def _read(name: str) -> str:
    text = (SOURCE_DIR / name).read_text(encoding="utf-8")
    return text if text.endswith("\n") else text + "\n"


def build() -> str:
    """widget.js as its sources make it."""
    out = [NOTICE, _read(HEADER), '(function () {\n  "use strict";\n']
    for name in SOURCES:
        out.append("\n" + _indent(_read(name)))
    out.append("})();\n")
    return "".join(out)


def unlisted() -> list[str]:
    """Source files the build would leave out (forgotten in SOURCES)."""
    known = {HEADER, *SOURCES}
    return sorted(p.name for p in SOURCE_DIR.glob("*.js") if p.name not in known)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    missing = unlisted()
    if missing:
        print(f"not in SOURCES of {__name__}: {', '.join(missing)}", file=sys.stderr)
        return 1
    built = build()
    if "--check" in argv:
        if OUTPUT.read_text(encoding="utf-8") != built:
            print(
                "static/chatbot/widget.js is not the build of static_src/widget/: "
                "run `python -m chatbot_project.build_widget`",
                file=sys.stderr,
            )
            return 1
        return 0
    OUTPUT.write_text(built, encoding="utf-8")
    print(f"wrote {OUTPUT} ({built.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
