# A per-dataset text search language (datasets/text_search.py). Existing datasets and chunks get
# `english`, the configuration their vectors were made with, so nothing changes for them.
# `search_vector` is generated from the chunk's `language` from now on; PostgreSQL cannot alter
# a generated column's expression (before 17, and then it rewrites too), so it is dropped and
# added again: one rewrite of datasets_chunk (every vector recomputed, its indexes rebuilt, the
# HNSW index included) under an exclusive lock, once, at `migrate`: 20 s for 100,000 chunks of
# bench/retrieval.py's synthetic load (maintenance_work_mem 512 MB), reads and writes waiting.

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models

import datasets.text_search


class Migration(migrations.Migration):
    dependencies = [
        ("datasets", "0002_keep_previous_version_of_failed_reingests"),
    ]

    operations = [
        migrations.AddField(
            model_name="dataset",
            name="language",
            field=models.CharField(default="english", max_length=63),
        ),
        migrations.AddField(
            model_name="chunk",
            name="language",
            field=models.CharField(
                db_default="english", default="english", editable=False, max_length=63
            ),
        ),
        migrations.RunSQL(
            datasets.text_search.CREATE_FUNCTION_0003, datasets.text_search.DROP_FUNCTION
        ),
        migrations.RemoveIndex(model_name="chunk", name="chunk_search_gin"),
        migrations.RemoveField(model_name="chunk", name="search_vector"),
        migrations.AddField(
            model_name="chunk",
            name="search_vector",
            field=models.GeneratedField(
                db_persist=True,
                expression=datasets.text_search.ChunkTsvector("language", "text"),
                output_field=django.contrib.postgres.search.SearchVectorField(),
            ),
        ),
        migrations.AddIndex(
            model_name="chunk",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_vector"], name="chunk_search_gin"
            ),
        ),
    ]
