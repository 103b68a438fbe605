"""A question's embedding as a psycopg query parameter, in pgvector's binary form."""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np
import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format


class QueryVector:
    """A question's embedding as a query parameter: sent in pgvector's binary form (4 bytes per
    dimension) with server-side binding, instead of ~7 KB of text parsed and planned per query."""

    __slots__ = ("data",)

    def __init__(self, values: Sequence[float]) -> None:
        self.data = np.asarray(values, dtype=">f4")


class _QueryVectorDumper(Dumper):
    # oid 0: the server takes the type from the statement's ``%s::vector`` cast, so no lookup
    # of the extension type's oid (which differs per database) is needed.
    format = Format.BINARY
    oid = 0

    def dump(self, obj: QueryVector) -> bytes:
        return struct.pack(">HH", obj.data.shape[0], 0) + obj.data.tobytes()


def with_query_vectors(raw: psycopg.Connection) -> psycopg.Connection:
    """``raw`` able to send ``QueryVector`` parameters: the dumper is registered per connection,
    once (pool connections open before any request, so a global registration could miss them)."""
    if not getattr(raw, "_chatbot_query_vectors", False):
        raw.adapters.register_dumper(QueryVector, _QueryVectorDumper)
        raw._chatbot_query_vectors = True  # type: ignore[attr-defined]
    return raw
