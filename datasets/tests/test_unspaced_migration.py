"""datasets' migration 0004: the new `chatbot_chunk_tsvector` (Han and Kana runs also as
character bigrams) and only the chunks holding those characters re-derived; English chunks
are not written (same row version), and backwards the bigrams go again."""

from __future__ import annotations

import pytest
from django.db import connection

from datasets.tests.migration_support import migrate_to, migrate_to_latest, seed_chunks

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("datasets", "0003_dataset_language")]
AFTER = [("datasets", "0004_unspaced_bigrams")]
TEXTS = [
    "Guide > Throttling limits anonymous clients per day.",
    "Café — “quoted” English with non-ASCII punctuation.",
    "序列化器把模型实例转换为JSON数据。",
    "スロットリングはリクエスト数を制限します。",
]


def _rows(dataset_id):
    """text -> (row version, has the bigram 序列 or リク)"""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT text, xmin::text || ctid::text, "
            "search_vector @@ '序列 | リク'::tsquery FROM datasets_chunk "
            "WHERE dataset_id = %s",
            [dataset_id],
        )
        return {text: (version, bigrams) for text, version, bigrams in cur.fetchall()}


def test_only_chunks_with_han_or_kana_are_rederived_and_back():
    try:
        old = migrate_to(BEFORE)
        dataset = seed_chunks(old, TEXTS)
        before = _rows(dataset.id)
        assert not any(bigrams for _version, bigrams in before.values())

        migrate_to(AFTER)
        after = _rows(dataset.id)
        for text in TEXTS[:2]:  # English: the same row version, not rewritten
            assert after[text] == before[text]
        for text in TEXTS[2:]:
            assert after[text][0] != before[text][0]
            assert after[text][1] is True
        with connection.cursor() as cur:
            cur.execute(
                "SELECT bool_and(search_vector = chatbot_chunk_tsvector(language, text)) "
                "FROM datasets_chunk WHERE dataset_id = %s",
                [dataset.id],
            )
            assert cur.fetchone()[0] is True

        migrate_to(BEFORE)
        back = _rows(dataset.id)
        assert not any(bigrams for _version, bigrams in back.values())
        for text in TEXTS[:2]:
            assert back[text] == before[text]
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_proc WHERE proname = 'chatbot_unspaced_bigrams'")
            assert cur.fetchone()[0] == 0
    finally:
        migrate_to_latest()
