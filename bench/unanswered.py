"""``GET /v1/unanswered``'s query (``conversations.gaps.unanswered``) on a big messages table.

    .venv/bin/python bench/unanswered.py [--conversations 150000] [--keep]

A database of its own (``bench_unanswered``, or ``BENCH_DB``), migrated, filled with SQL:
two tenants with ``--conversations`` conversations each (a question and its answer: twice as
many messages per tenant), answers mixed as a hosted bot's are (cited 85%, no sources 7%,
ungrounded refusals 3%, guardrail refusals 2%, errors 1.5%, cancelled 1.5%; 3% rated down),
the questions drawn from 3,000 texts written in several ways (case, spacing, trailing "?").
Then EXPLAIN (ANALYZE) and the median time of the query for the tenant over all time, the last
30 days, one bot, with rated-down answers and the second page, as migrated and with a partial
index of the gap answers (made for the run and dropped: it was measured, not kept). ``--keep``
keeps the database (the next run reuses its rows).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import configure

FILL = """
INSERT INTO conversations_conversation
  (id, tenant_id, bot_id, bot_slug, scope_id, "user", title, api_key_id, metadata, message_count,
   created_at, updated_at)
SELECT gen_random_uuid(), %(tenant)s, (%(bots)s::uuid[])[1 + i %% 3],
       'bot-' || (i %% 3), NULL, 'u' || (i %% 5000), 'q', NULL, '{}', 2,
       now() - (i * interval '40 seconds'), now() - (i * interval '40 seconds')
FROM generate_series(1, %(n)s) i;

INSERT INTO conversations_message
  (id, tenant_id, conversation_id, bot_id, role, content, citations, prompt_tokens,
   completion_tokens, total_tokens, latency_ms, model, finish_reason, refused, refusal_reason,
   error, feedback_rating, feedback_comment, feedback_at, metadata, created_at, updated_at)
SELECT gen_random_uuid(), c.tenant_id, c.id, c.bot_id, 'user',
       (CASE WHEN r.v %% 3 = 0 THEN upper(left(q.t, 1)) || substr(q.t, 2) ELSE q.t END)
         || (CASE WHEN r.v %% 2 = 0 THEN '?' ELSE ' ? ' END),
       '[]', 0, 0, 0, NULL, '', '', false, '', '', '', '', NULL, '{}', c.created_at, c.created_at
FROM conversations_conversation c
CROSS JOIN LATERAL (
  SELECT (random() * 1000000 + 0 * extract(epoch FROM c.created_at))::int AS v) r
CROSS JOIN LATERAL (
  SELECT 'how do i configure feature ' || ((r.v::bigint * 7919) %% 3000)
         || ' for my account' AS t) q
WHERE c.tenant_id = %(tenant)s;

INSERT INTO conversations_message
  (id, tenant_id, conversation_id, bot_id, role, content, citations, prompt_tokens,
   completion_tokens, total_tokens, latency_ms, model, finish_reason, refused, refusal_reason,
   error, feedback_rating, feedback_comment, feedback_at, metadata, created_at, updated_at)
SELECT gen_random_uuid(), c.tenant_id, c.id, c.bot_id, 'assistant',
       repeat('An answer sentence. ', 20),
       CASE WHEN k.kind IN ('cited', 'error', 'cancelled') THEN %(citations)s::jsonb
            ELSE '[]'::jsonb END,
       300, 80, 380, 900, CASE WHEN k.kind IN ('ungrounded', 'blocked') THEN '' ELSE 'm' END,
       CASE k.kind WHEN 'ungrounded' THEN 'refused' WHEN 'blocked' THEN 'refused'
                   WHEN 'error' THEN 'error' WHEN 'cancelled' THEN 'cancelled' ELSE 'stop' END,
       k.kind IN ('ungrounded', 'blocked'),
       CASE WHEN k.kind IN ('ungrounded', 'blocked') THEN k.kind ELSE '' END,
       CASE WHEN k.kind = 'error' THEN 'upstream_error' ELSE '' END,
       CASE WHEN k.v < 0.03 THEN 'down' ELSE '' END, '', NULL, '{}',
       c.created_at + interval '2 seconds', c.created_at + interval '2 seconds'
FROM conversations_conversation c
CROSS JOIN LATERAL (
  SELECT random() AS v, CASE WHEN x < 0.85 THEN 'cited' WHEN x < 0.92 THEN 'none'
    WHEN x < 0.95 THEN 'ungrounded' WHEN x < 0.97 THEN 'blocked' WHEN x < 0.985 THEN 'error'
    ELSE 'cancelled' END AS kind
  FROM (SELECT random() + 0 * extract(epoch FROM c.created_at) AS x) s
) k
WHERE c.tenant_id = %(tenant)s;
"""

# Measured, not kept (conversations/gaps.py): the rows are fetched from the table either way.
GAP_INDEX = """
CREATE INDEX msg_gap_idx ON conversations_message (tenant_id, created_at)
WHERE role = 'assistant' AND (citations = '[]'::jsonb OR feedback_rating = 'down');
ANALYZE conversations_message;
"""

CITATIONS = (
    '[{"index": 1, "chunk_id": "3f1c", "document_id": "9a2b", "document_title": "Guide", '
    '"score": 0.71, "snippet": "' + "Some quoted passage text. " * 10 + '", "source": "g.pdf"}]'
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=150_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    name, *_ = configure("bench_unanswered", "6")
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from conversations.gaps import unanswered
    from conversations.tests.factories import BotFactory
    from tenants.models import Tenant

    call_command("migrate", verbosity=0)
    tenants = []
    for slug in ("bench-a", "bench-b"):
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            tenant = Tenant.objects.create(slug=slug, name=slug)
            bots = [BotFactory(tenant=tenant, slug=f"bot-{i}") for i in range(3)]
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(
                    FILL,
                    {"tenant": tenant.id, "bots": [b.id for b in bots],
                     "n": args.conversations, "citations": CITATIONS},
                )  # fmt: skip
                cursor.execute("ANALYZE conversations_message; ANALYZE conversations_conversation")
            print(f"filled {slug}: {time.perf_counter() - started:.0f} s")
        tenants.append(tenant)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM conversations_message")
        print(f"{name}: {cursor.fetchone()[0]:,} messages")
    tenant = tenants[0]
    cases = {
        "all time": {},
        "last 30 days": {"start": timezone.now() - timedelta(days=30)},
        "one bot": {"bot": "bot-1"},
        "with rated_down": {"rated_down": True},
        "page 2": {},
    }

    def timed(kwargs):
        times = []
        for _ in range(5):
            started = time.perf_counter()
            rows, nxt = unanswered(tenant=tenant, **kwargs)
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times), rows, nxt

    for label in ("as migrated", "with a partial index of the gap answers"):
        print(f"--- {label}")
        with transaction.atomic():  # DDL is transactional: the index goes at the end
            if label != "as migrated":
                with connection.cursor() as cursor:
                    cursor.execute(GAP_INDEX)
            for case, kwargs in cases.items():
                if case == "page 2":
                    kwargs = {"after": timed({})[2]}
                ms, rows, _ = timed(kwargs)
                top = rows[0]["count"] if rows else 0
                print(f"{case:>16}: {ms:7.1f} ms, {len(rows)} rows, top count {top}")
            _explain(connection, tenant)
            transaction.set_rollback(True)
    connection.close()
    if not args.keep:
        import os
        from urllib.parse import urlsplit, urlunsplit

        import psycopg

        # The server's own database, to drop the bench one from (configure pointed at it).
        admin = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')  # (the pool's connections)


def _explain(connection, tenant) -> None:
    """The plan of the all-time query (the statement ``unanswered`` runs, captured)."""
    from django.test.utils import CaptureQueriesContext

    from conversations.gaps import unanswered

    with CaptureQueriesContext(connection) as queries:
        unanswered(tenant=tenant)
    sql = queries.captured_queries[-1]["sql"]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        print("\n".join(r[0] for r in cursor.fetchall()))


if __name__ == "__main__":
    main()
