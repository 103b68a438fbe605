"""The sampling options of ``/v1/openai/chat/completions`` (``temperature``, ``top_p``, the
penalties, ``max_tokens`` / ``max_completion_tokens``, ``stop``, ``seed``, ``logit_bias`` and the
boolean flags), checked as OpenAI checks them: a value OpenAI would refuse is a 400
``invalid_request`` naming the parameter (OpenAI's ``param``), never silently served. ``null``
is absent, as OpenAI takes it (clients such as LangChain send ``"stop": null``).

Honoured: ``temperature`` (sent to the model instead of the bot's own; the offline extractive
provider quotes its sources whatever the temperature) and ``max_completion_tokens`` /
``max_tokens`` (below the bot's ``max_tokens``, which stays the ceiling; the answer is cut
there with ``finish_reason: "length"``). ``top_p``, the penalties, ``stop``, ``seed`` and
``logit_bias`` (``Sampling.passed``) are sent to the model as the client gave them, and only
then (the model's defaults otherwise); the extractive provider cuts its answer at the first
``stop`` string (``finish_reason: "stop"``) and has no use for the others."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chatbot_project.errors import APIError

# (name, lowest, highest) of OpenAI's numeric sampling options
RANGES = (
    ("temperature", 0, 2),
    ("top_p", 0, 1),
    ("presence_penalty", -2, 2),
    ("frequency_penalty", -2, 2),
)
# Sent to the model as given (absent or null: not sent; an empty ``stop`` list or
# ``logit_bias`` object asks for nothing, so is not sent either: some providers refuse them).
PASSED = ("top_p", "presence_penalty", "frequency_penalty", "stop", "seed", "logit_bias")
FLAGS = ("logprobs", "parallel_tool_calls", "store")  # (``stream``: openai_compat checks it)
MAX_STOP = 4
INT64 = 2**63


class ParamError(APIError):
    """A 400 ``invalid_request`` that names its parameter, as OpenAI's ``param`` does."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message, details={"param": param})
        self.param = param


@dataclass
class Sampling:
    temperature: float | None = None  # None: the bot's
    max_tokens: int | None = None  # None: the bot's
    passed: dict[str, Any] = field(default_factory=dict)  # PASSED options the client gave


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def sampling(payload: dict[str, Any]) -> Sampling:
    """The honoured options of ``payload``, every OpenAI sampling option in it checked."""
    for name, low, high in RANGES:
        value = payload.get(name)
        if value is not None and not (_is_number(value) and low <= value <= high):
            raise ParamError(name, f"`{name}` must be a number from {low} to {high}.")
    for name in ("max_completion_tokens", "max_tokens"):
        value = payload.get(name)
        if value is not None and not (_is_integer(value) and value >= 1):
            raise ParamError(name, f"`{name}` must be a positive integer.")
    stop = payload.get("stop")
    if stop is not None and not isinstance(stop, str):
        if not (isinstance(stop, list) and all(isinstance(s, str) for s in stop)):
            raise ParamError("stop", "`stop` must be a string or a list of strings.")
        if len(stop) > MAX_STOP:
            raise ParamError("stop", f"`stop` takes at most {MAX_STOP} sequences.")
    seed = payload.get("seed")
    if seed is not None and not (_is_integer(seed) and -INT64 <= seed < INT64):
        raise ParamError("seed", "`seed` must be an integer.")
    for name in FLAGS:
        value = payload.get(name)
        if value is not None and not isinstance(value, bool):
            raise ParamError(name, f"`{name}` must be true or false.")
    bias = payload.get("logit_bias")
    if bias is not None and not (
        isinstance(bias, dict) and all(_is_number(v) and -100 <= v <= 100 for v in bias.values())
    ):
        raise ParamError(
            "logit_bias", "`logit_bias` must be an object of token ids to numbers from -100 to 100."
        )
    limit = payload.get("max_completion_tokens")  # OpenAI's newer name wins
    return Sampling(
        temperature=payload.get("temperature"),
        max_tokens=payload.get("max_tokens") if limit is None else limit,
        passed={n: payload[n] for n in PASSED if payload.get(n) not in (None, [], {})},
    )
