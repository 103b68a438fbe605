"""Strict JSON for request bodies: only what PostgreSQL can store and Python can encode.

Python's ``json`` accepts things our storage cannot hold, and a value that passes validation
but fails when saved is worse than a refusal (a chat answered, then lost): ``NaN``,
``Infinity`` and numbers that overflow to infinity (jsonb rejects them), the NUL character
(PostgreSQL text cannot hold it) and unpaired UTF-16 surrogates such as ``"\\ud800"`` (not
encodable as UTF-8). Nesting deeper than ``MAX_DEPTH`` is refused too (deeper input made
``json.loads`` raise RecursionError: a 500).

``loads(data)`` parses and checks; ``problem(value)`` checks an already parsed value (e.g. a
WebSocket frame, a form field); ``storable(text)`` cleans text we must keep whatever it holds
(a model's answer). Both report the first problem as one sentence naming where it
is (``metadata.note``), raised as ``BadJSON`` (a ValueError) by ``loads``.

``StrictJSONParser``, ``StrictMultiPartParser`` and ``StrictFormParser`` are DRF's parsers with
these checks (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]): their ``ParseError`` becomes API.md's
400 ``invalid_request`` body.
"""

from __future__ import annotations

import json
import math
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

MAX_DEPTH = 100  # a JSON document (up to 64 levels, datasets) fits inside a request body
NOT_JSON = "The request body is not valid JSON."


class BadJSON(ValueError):
    pass


def _constant(name: str) -> Any:
    raise BadJSON(f"{NOT_JSON[:-1]}: {name} is not a JSON number.")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJSON(f"The number {text[:40]} is too large to represent.")
    return value


def loads(data: bytes | str) -> Any:
    """The parsed value; ``BadJSON`` with a sentence for anything we would refuse."""
    try:
        value = json.loads(data, parse_constant=_constant, parse_float=_finite)
    except BadJSON:
        raise
    except RecursionError:
        raise BadJSON(f"The request body is nested deeper than {MAX_DEPTH} levels.") from None
    except ValueError:  # includes UnicodeDecodeError
        raise BadJSON(NOT_JSON) from None
    found = problem(value)
    if found:
        raise BadJSON(found)
    return value


def problem(value: Any, root: str = "") -> str | None:
    """The first thing in ``value`` we cannot store, as a sentence, or None. Iterative (no
    recursion limit); strings are checked as dict keys too."""
    stack: list[tuple[str, Any, int]] = [(root, value, 0)]
    while stack:
        where, node, depth = stack.pop()
        if isinstance(node, str):
            found = _text_problem(node)
            if found:
                return f"{_name(where)} {found}"
        elif isinstance(node, float):
            if not math.isfinite(node):
                return f"{_name(where)} must be a finite number."
        elif isinstance(node, dict | list):
            if depth >= MAX_DEPTH:
                return f"The request body is nested deeper than {MAX_DEPTH} levels."
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, item in items:
                path = f"{where}.{key}" if where else str(key)
                if isinstance(key, str):
                    found = _text_problem(key)
                    if found:
                        return f"A key in {_name(where)} {found}"
                stack.append((path, item, depth + 1))
    return None


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains the NUL character (\\u0000), which cannot be stored; remove it."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired UTF-16 surrogate (\\ud800-\\udfff); send valid Unicode text."
    return None


def storable(text: str) -> str:
    """``text`` as PostgreSQL can store it: NUL removed, unpaired surrogates replaced. For text
    we must save whatever it holds, e.g. a model's answer (a refusal would lose it)."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _name(where: str) -> str:
    return f"`{where}`" if where else "The request body"


class StrictJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            return loads(stream.read())
        except BadJSON as exc:
            raise ParseError(str(exc)) from None


def _checked(result: Any) -> Any:
    """``result``: a multipart parser's DataAndFiles or a form parser's QueryDict."""
    data = getattr(result, "data", result)
    for key in data:
        for value in data.getlist(key):
            found = problem(value, key) or problem(key)
            if found:
                raise ParseError(found)
    return result


class StrictMultiPartParser(MultiPartParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        return _checked(super().parse(stream, media_type, parser_context))


class StrictFormParser(FormParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        return _checked(super().parse(stream, media_type, parser_context))
