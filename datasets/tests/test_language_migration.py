"""datasets' migration 0003 on existing data: datasets and chunks written before it get
`english` (the configuration their vectors were made with) and every chunk's `search_vector`
is what it was, so keyword search finds the same chunks; a later language change re-derives
them."""

from __future__ import annotations

import pytest
from django.db import connection

from datasets.tests.migration_support import migrate_to, migrate_to_latest, seed_chunks

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("datasets", "0002_keep_previous_version_of_failed_reingests")]
AFTER = [("datasets", "0003_dataset_language")]
TEXTS = [
    "Guide > Throttling limits anonymous clients per day.",
    "GeoTopo > Die Fläche eines Dreiecks ist die halbe Grundseite mal der Höhe.",
]


def _vectors(dataset_id):
    with connection.cursor() as cur:
        cur.execute(
            "SELECT text, search_vector::text FROM datasets_chunk WHERE dataset_id = %s "
            "ORDER BY index",
            [dataset_id],
        )
        return cur.fetchall()


def test_existing_chunks_keep_their_english_vectors_and_can_change_language():
    try:
        old = migrate_to(BEFORE)
        dataset = seed_chunks(old, TEXTS)
        before = _vectors(dataset.id)

        new = migrate_to(AFTER)
        assert new.get_model("datasets", "Dataset").objects.get(pk=dataset.id).language == "english"
        chunks = new.get_model("datasets", "Chunk").objects.filter(dataset_id=dataset.id)
        assert set(chunks.values_list("language", flat=True)) == {"english"}
        assert _vectors(dataset.id) == before
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM datasets_chunk WHERE dataset_id = %s "
                "AND search_vector = to_tsvector('english', text)",
                [dataset.id],
            )
            assert cur.fetchone()[0] == len(TEXTS)

        # The generated column follows a chunk's language.
        chunks.update(language="german")
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM datasets_chunk WHERE dataset_id = %s "
                "AND search_vector @@ to_tsquery('german', 'Flächen')",
                [dataset.id],
            )
            assert cur.fetchone()[0] == 1
    finally:
        migrate_to_latest()
