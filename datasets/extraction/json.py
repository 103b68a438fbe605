"""JSON: records flattened into readable ``key.path: value`` lines, one block per record.

A top-level list is a list of records; an object whose values are mostly lists of records is
walked the same way. Nesting deeper than 64 levels is refused (parsing is iterative, no
recursion limit to hit).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from datasets.extraction import Block, ExtractionError, no_progress, normalise
from datasets.extraction.text import read_text

MAX_DEPTH = 64
# What json.loads makes of "\\ud800" without its pair: no UTF-8 for it (the tokenizer and
# PostgreSQL refuse it), so it becomes U+FFFD as undecodable bytes do.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _depth_ok(text: str) -> bool:
    """Bracket depth of raw JSON text (strings skipped), checked before json.loads recurses."""
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif ch in "]}":
            depth -= 1
    return True


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def flatten(value: Any, prefix: str = "") -> list[str]:
    lines: list[str] = []
    stack: list[tuple[str, Any]] = [(prefix, value)]
    while stack:
        key, node = stack.pop()
        if isinstance(node, dict):
            stack.extend(
                (f"{key}.{k}" if key else str(k), v) for k, v in reversed(list(node.items()))
            )
        elif isinstance(node, list):
            if node and all(not isinstance(v, dict | list) for v in node):
                lines.append(
                    f"{key}: {', '.join(_scalar(v) for v in node)}"
                    if key
                    else ", ".join(map(_scalar, node))
                )
            else:
                stack.extend(
                    (f"{key}[{i}]" if key else f"[{i}]", v)
                    for i, v in reversed(list(enumerate(node)))
                )
        else:
            lines.append(f"{key}: {_scalar(node)}" if key else _scalar(node))
    return lines


def _records(data: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(data, list):
        for i, item in enumerate(data):
            yield f"Record {i + 1}", item
    elif isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                for i, item in enumerate(value):
                    yield f"{key} {i + 1}", item
            else:
                yield str(key), {key: value}
    else:
        yield "", data


def extract_data(data: Any, progress: Callable[[float], None] = no_progress) -> Iterator[Block]:
    """One Block per record; ``progress`` every 256 records of a top-level list (0.5..1: the
    file is read and parsed by then, see ``extract``)."""
    step = 0.5 / len(data) if isinstance(data, list) and data else 0.0
    for index, (label, record) in enumerate(_records(data)):
        if step and not index & 255:
            progress(0.5 + step * index)
        lines = flatten(record)
        text = "\n".join(line for line in lines if line.strip())
        # Escapes decode to characters the file's text could not hold (\u0000, a lone
        # \ud800): cleaned here, as read_text cleaned the raw text.
        text = normalise(_LONE_SURROGATE.sub("\ufffd", text))
        if text.strip():
            yield Block(text=text, headings=(label,) if label and isinstance(data, list) else ())


def _json_lines(text: str) -> list | None:
    """The records of JSON Lines text (one JSON value per line, as ``.jsonl`` files, which the
    sniffer sends here, hold), or None if it is not that."""
    records = []
    for line in text.splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except ValueError:
                return None
    return records if len(records) > 1 else None


def extract(path: Path, progress: Callable[[float], None] = no_progress) -> Iterator[Block]:
    text = read_text(path)
    progress(0.1)
    if not _depth_ok(text):
        raise ExtractionError(
            f"The JSON is nested deeper than {MAX_DEPTH} levels; flatten it first."
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        data = _json_lines(text) if exc.msg == "Extra data" else None
        if data is None:
            raise ExtractionError(
                f"The file is not valid JSON ({exc.msg} at line {exc.lineno})."
            ) from None
    except ValueError:  # Python's cap on an integer's digits, not a syntax error
        raise ExtractionError(
            f"The JSON holds a number longer than {sys.get_int_max_str_digits():,} digits, "
            "which cannot be read; store it as a string."
        ) from None
    except RecursionError:
        raise ExtractionError(
            f"The JSON is nested deeper than {MAX_DEPTH} levels; flatten it first."
        ) from None
    progress(0.5)
    yield from extract_data(data, progress)
