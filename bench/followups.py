"""Follow-up questions: does a short second turn ("And per user?") retrieve the document the
conversation is about? Through the product's chat path, not the retrieval engine alone.

    .venv/bin/python bench/followups.py

drf-docs ingested as bench/retrieval.py's quality part does (same database, reused); the pairs
in bench/followup_pairs.jsonl (16 two-turn conversations written for this benchmark, each
follow-up's document known). For each pair, over POST /v1/chat (JSON, the offline extractive
provider, bot `drf`: hybrid, top_k 10): the first question, then the follow-up in the same
conversation ("in conversation"), and the follow-up alone in a new one ("alone", what retrieval
saw before conversations/followup.py). Document level, from the second answer's citations
(in retrieval order): hit@1, hit@5, MRR@10.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))

from bench.retrieval import quality, tenant_with_key  # noqa: E402


def _rank(citations: list[dict], relevant: set[str]) -> int | None:
    seen: list[str] = []
    for citation in citations:
        if citation["document_title"] not in seen:
            seen.append(citation["document_title"])
    return next((i for i, title in enumerate(seen[:10], 1) if title in relevant), None)


def main() -> None:
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    quality()  # ingests drf-docs (once) and creates the bot `drf`
    _, key = tenant_with_key("bench-quality")
    client = Client(HTTP_HOST="localhost")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}", "content_type": "application/json"}

    def ask(message: str, conversation: str | None = None) -> dict:
        body = {"bot": "drf", "message": message}
        if conversation:
            body["conversation_id"] = conversation
        res = client.post("/v1/chat", body, **auth)
        assert res.status_code == 200, res.content
        return res.json()

    pairs = [
        json.loads(line)
        for line in (BASE / "bench" / "followup_pairs.jsonl").read_text().splitlines()
        if line.strip()
    ]
    ranks: dict[str, list[int | None]] = {"alone": [], "in conversation": []}
    print("\n| follow-up | alone | in conversation |\n| --- | --- | --- |")
    for pair in pairs:
        relevant = set(pair["relevant"])
        first = ask(pair["first"])
        second = ask(pair["follow_up"], first["conversation_id"])
        alone = ask(pair["follow_up"])
        row = (_rank(alone["citations"], relevant), _rank(second["citations"], relevant))
        ranks["alone"].append(row[0])
        ranks["in conversation"].append(row[1])
        print(f"| {pair['follow_up']} | {row[0] or '-'} | {row[1] or '-'} |")
    print(f"\nFollow-ups ({len(pairs)} pairs) via POST /v1/chat, document level:")
    print("| retrieval of the follow-up | hit@1 | hit@5 | MRR@10 |\n| --- | --- | --- | --- |")
    for name, values in ranks.items():
        n = len(values)
        hit1 = sum(1 for r in values if r == 1) / n
        hit5 = sum(1 for r in values if r and r <= 5) / n
        mrr = sum(1 / r for r in values if r) / n
        print(f"| {name} | {hit1:.2f} | {hit5:.2f} | {mrr:.2f} |")


if __name__ == "__main__":
    main()
