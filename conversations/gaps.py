"""Content gaps (``GET /v1/unanswered``, ``manage.py unanswered``): the questions a tenant's users
asked that its bots could not answer from its documents, grouped by their normalized text, most
asked first, so the tenant knows which documents to add.

An answer is a gap for one of these reasons (an answer may have several):

- ``ungrounded``: the scope's ``require_grounding`` refused it, nothing having been retrieved
  (``refusal_reason`` ``ungrounded``; refusals stored before that column existed have no reason
  and are left out, as they cannot be told from guardrail refusals);
- ``no_sources``: answered with no citation, nothing retrieved (or, with the offline extractive
  provider, nothing that matched: its "nothing found" sentence), a complete answer
  (``finish_reason`` ``stop`` or ``length``), not refused, no error;
- ``rated_down`` (only when asked for): a complete, not refused answer its user rated ``down``,
  with or without sources.

Never gaps: guardrail refusals (``blocked``: the tenant chose not to answer), the provider's
content filter (``finish_reason`` ``refused``), failed (``error``) and cancelled turns.

The question is the user's message the answer follows (the latest user message of the
conversation at or before the answer). Questions are grouped by their text lowercased, runs of
whitespace made one space, and trailing punctuation and spaces removed (``?``, ``!``, ``.``,
``？``, ``。``...). One query: the tenant's answers read through its tenant index, each gap's
question through ``msg_tenant_conv_idx``. bench/unanswered.py measures it (~0.2 s for a tenant
of 300,000 messages, 15,000 of them gaps); a partial index of the gap answers was measured
and not kept: fetching the rows from the table costs the same either way.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from bots.models import Bot
from chatbot_project.errors import APIError
from conversations.models import Conversation, Message
from tenants.context import AuthContext
from tenants.models import Tenant

REASONS = ("ungrounded", "no_sources", "rated_down")
INCLUDABLE = ("rated_down",)

# What makes an answer a gap (module doc); constants of this module, written into the SQL.
_COMPLETE = "NOT a.refused AND a.finish_reason IN ('stop', 'length') AND a.error = ''"
_UNGROUNDED = "a.refusal_reason = 'ungrounded' AND a.finish_reason = 'refused'"
_NO_SOURCES = _COMPLETE
_RATED_DOWN = f"a.feedback_rating = 'down' AND {_COMPLETE}"
_NO_CITATIONS = "a.citations = '[]'::jsonb"
# The question's grouping key: lowercased, whitespace runs as one space, trailing punctuation
# and spaces dropped (a question of punctuation only keys as '').
NORMALIZED = (
    "btrim(regexp_replace(regexp_replace(lower({0}), '\\s+', ' ', 'g'), "
    "'[[:punct:][:space:]]+$', ''))"
)


@dataclass(frozen=True)
class Position:
    """Where a page ends: its last group's count, last time asked and key (``next``)."""

    count: int
    last_asked: datetime
    key: str

    def token(self) -> str:
        raw = json.dumps([self.count, self.last_asked.isoformat(), self.key])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def parse(cls, token: str) -> Position:
        try:
            padded = token + "=" * (-len(token) % 4)
            count, last, key = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            moment = datetime.fromisoformat(last)
            if type(count) is not int or not isinstance(key, str) or moment.tzinfo is None:
                raise ValueError
            int(key, 16)
            return cls(count, moment, key)
        except (ValueError, TypeError, UnicodeError, binascii.Error):
            raise APIError(
                "cursor is not valid; use the `next` value of a previous page.",
                details={"fields": {"cursor": ["Use the `next` value of a previous page."]}},
            ) from None


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _bot_clause(tenant: Tenant, ref: str) -> tuple[str, list[Any]]:
    """As ``selectors.bot_filter``: by id a bot's answers; by slug, the bot of that slug and the
    deleted bots that had it (their conversations keep it). Another tenant's slug or id finds
    nothing, as for ``GET /v1/conversations?bot=``."""
    as_id = _as_uuid(ref)
    if as_id:
        return "a.bot_id = %s", [as_id]
    live = list(Bot.objects.for_tenant(tenant).filter(slug=ref).values_list("id", flat=True))
    return "(a.bot_id = ANY(%s) OR (a.bot_id IS NULL AND c.bot_slug = %s))", [live, ref]


def unanswered(
    *,
    tenant: Tenant,
    bot: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    rated_down: bool = False,
    context: AuthContext | None = None,
    limit: int = 20,
    after: Position | None = None,
) -> tuple[list[dict[str, Any]], Position | None]:
    """One page of content gaps (module doc): rows most asked first, then most recently asked,
    and where the next page starts (None on the last). ``start``/``end``: when the question
    was asked (``start`` included, ``end`` not). ``context``: a key limited to certain bots
    or scopes sees only the conversations it may read (``selectors.visible_to``)."""
    gap = f"{_NO_CITATIONS} AND (({_UNGROUNDED}) OR ({_NO_SOURCES}))"
    if rated_down:
        gap = f"({gap}) OR ({_RATED_DOWN})"
    where, params = [f"a.tenant_id = %s AND a.role = 'assistant' AND ({gap})"], [tenant.id]
    if start is not None:  # the answer comes after its question: the same bound prunes answers
        where.append("a.created_at >= %s")
        params.append(start)
    if bot:
        clause, values = _bot_clause(tenant, bot)
        where.append(clause)
        params += values
    if context is not None and context.allowed_bot_ids is not None:
        where.append("c.bot_id = ANY(%s)")
        params.append(list(context.allowed_bot_ids))
    if context is not None and context.allowed_scope_ids is not None:
        where.append("c.scope_id = ANY(%s)")
        params.append(list(context.allowed_scope_ids))
    asked: list[str] = []
    if start is not None:
        asked.append("q.created_at >= %s")
        params.append(start)
    if end is not None:
        asked.append("q.created_at < %s")
        params.append(end)
    having, having_params = "", []
    if after is not None:
        having = (
            "HAVING count(*) < %s OR (count(*) = %s AND (max(asked_at) < %s "
            "OR (max(asked_at) = %s AND md5(norm) > %s)))"
        )
        having_params = [after.count, after.count, after.last_asked, after.last_asked, after.key]
    messages, conversations = Message._meta.db_table, Conversation._meta.db_table
    # Table names come from the models; every value is a parameter (the literal conditions
    # above are constants of this module).
    sql = f"""
        WITH asked AS (
            SELECT q.content AS question, q.created_at AS asked_at, a.id AS answer_id,
                   a.conversation_id, COALESCE(b.slug, c.bot_slug) AS bot,
                   ({_UNGROUNDED}) AS ungrounded,
                   ({_NO_CITATIONS} AND {_NO_SOURCES}) AS no_sources,
                   ({_RATED_DOWN}) AS rated_down
            FROM {messages} a
            JOIN {conversations} c ON c.id = a.conversation_id AND c.tenant_id = a.tenant_id
            LEFT JOIN {Bot._meta.db_table} b ON b.id = a.bot_id
            CROSS JOIN LATERAL (
                SELECT u.content, u.created_at FROM {messages} u
                WHERE u.tenant_id = a.tenant_id AND u.conversation_id = a.conversation_id
                  AND u.role = 'user' AND u.created_at <= a.created_at
                ORDER BY u.created_at DESC LIMIT 1
            ) q
            WHERE {" AND ".join(where)} {"".join(f" AND {x}" for x in asked)}
        ), keyed AS (
            SELECT *, {NORMALIZED.format("question")} AS norm FROM asked
        )
        SELECT md5(norm), count(*), min(asked_at), max(asked_at),
               array_agg(DISTINCT bot ORDER BY bot),
               bool_or(ungrounded), bool_or(no_sources), bool_or(rated_down),
               (array_agg(question ORDER BY asked_at DESC, answer_id))[1],
               (array_agg(conversation_id ORDER BY asked_at DESC, answer_id))[1],
               (array_agg(answer_id ORDER BY asked_at DESC, answer_id))[1]
        FROM keyed GROUP BY norm {having}
        ORDER BY count(*) DESC, max(asked_at) DESC, md5(norm)
        LIMIT %s
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *having_params, limit + 1])
        found = cursor.fetchall()
    rows = [_row(r) for r in found[:limit]]
    if len(found) <= limit:
        return rows, None
    last = found[limit - 1]
    return rows, Position(count=last[1], last_asked=last[3], key=last[0])


def _row(r: tuple) -> dict[str, Any]:
    (_, count, first, last, bots, ungrounded, no_sources, down, question, conv, answer) = r
    flags = {"ungrounded": ungrounded, "no_sources": no_sources, "rated_down": down}
    return {
        "question": question,
        "count": count,
        "first_asked": first,
        "last_asked": last,
        "bots": [slug for slug in bots if slug],
        "reasons": [name for name in REASONS if flags[name]],
        "conversation_id": conv,
        "message_id": answer,
    }
