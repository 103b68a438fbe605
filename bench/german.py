"""Keyword retrieval of German questions over a German document, dataset `language` english vs
german (datasets/text_search.py).

    BENCH_DB=<a database of your own> .venv/bin/python bench/german.py

GeoTopo-komprimiert.pdf (../shared/corpus/pdf, a German lecture script on geometry and
topology, 117 pages) is ingested by the real pipeline into one dataset of a tenant of its own
(reused by later runs); each question of bench/german_pairs.jsonl (written for this benchmark;
each names the page(s) of the passage that answers it) is asked through POST /v1/retrieve
(Django's in-process client), top_k 10, once per language: the dataset's language is changed
with PATCH /v1/datasets/{id} (its chunks' vectors follow) before each pass. Page level: a result
is relevant when its chunk's pages (``metadata.page`` .. ``page_end``) meet the question's.
Keyword and hybrid modes; vector (English MiniLM) does not depend on the language.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))

from bench.retrieval_fixture import BENCH_DB, CORPUS, tenant_with_key  # noqa: E402

# isort: split
from django.core.management import call_command  # noqa: E402

PAIRS = BASE / "bench" / "german_pairs.jsonl"
PDF = CORPUS / "pdf" / "GeoTopo-komprimiert.pdf"


def _pages(metadata: dict) -> set[int]:
    first = metadata.get("page")
    if first is None:
        return set()
    return set(range(int(first), int(metadata.get("page_end", first)) + 1))


def main() -> None:
    from django.test import Client

    from apikeys.services import api_key_create
    from datasets.ingestion import process_document
    from datasets.models import Document
    from datasets.services import dataset_get_or_create, document_create_from_path

    call_command("migrate", verbosity=0)
    print(f"database {BENCH_DB}")
    tenant, key = tenant_with_key("bench-german")
    _, admin = api_key_create(
        tenant=tenant, name="bench-admin", permissions=("chat", "read", "write"),
        rate_limit="1000000/m",
    )  # fmt: skip
    dataset, _ = dataset_get_or_create(tenant=tenant, name="geotopo")
    doc, _ = document_create_from_path(
        tenant=tenant, dataset=dataset, path=PDF, title="GeoTopo", enqueue=False
    )
    if doc.status != Document.Status.READY:
        process_document(doc.id, use_lease=False)
    doc.refresh_from_db()
    print(f"{PDF.name}: {doc.page_count} pages, {doc.chunk_count} chunks")
    pairs = [json.loads(line) for line in PAIRS.read_text().splitlines() if line.strip()]
    client = Client(HTTP_HOST="localhost")

    def call(method: str, path: str, body: dict, raw: str) -> dict:
        res = getattr(client, method)(
            path, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
        )
        assert res.status_code == 200, res.content
        return res.json()

    print(f"\n{len(pairs)} questions, POST /v1/retrieve top_k 10, page level")
    print("| dataset language | mode | hit@1 | hit@5 | MRR@10 | ranks |")
    print("| --- | --- | --- | --- | --- | --- |")
    for language in ("english", "german"):
        call("patch", f"/v1/datasets/{dataset.id}", {"language": language}, admin)
        for mode in ("keyword", "hybrid"):
            ranks: list[int | None] = []
            for pair in pairs:
                body = {"datasets": [str(dataset.id)], "query": pair["question"], "top_k": 10}
                data = call("post", "/v1/retrieve", {**body, "mode": mode}, key)["data"]
                wanted = set(pair["pages"])
                rank = next(
                    (i for i, r in enumerate(data, 1) if _pages(r["metadata"]) & wanted), None
                )
                ranks.append(rank)
            n = len(ranks)
            hit1 = sum(r == 1 for r in ranks) / n
            hit5 = sum(r is not None and r <= 5 for r in ranks) / n
            mrr = sum(1 / r for r in ranks if r is not None) / n
            shown = " ".join("-" if r is None else str(r) for r in ranks)
            print(f"| {language} | {mode} | {hit1:.2f} | {hit5:.2f} | {mrr:.2f} | {shown} |")
    call("patch", f"/v1/datasets/{dataset.id}", {"language": "german"}, admin)


if __name__ == "__main__":
    main()
