# Chinese and Japanese keyword search (datasets/text_search.py): `chatbot_chunk_tsvector` also
# gives the character bigrams of Han and Kana runs (`chatbot_unspaced_bigrams`), and the
# question's lexemes are made by it. The function is replaced in place (the generated column
# keeps its expression) and only the chunks holding those characters are re-derived, in batches
# of 2,000, each its own transaction (so this migration is not atomic; run again, it resumes:
# the UPDATE is idempotent). Other chunks are read, not written: an English-only table is one
# scan, no rewrite, no index churn. Backwards: the function of 0003, then the same chunks
# re-derived without the bigrams.

from django.db import migrations

import datasets.text_search as ts


def rederive(apps, schema_editor):
    ts.rederive_unspaced_chunks()


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("datasets", "0003_dataset_language"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, rederive),
        migrations.RunSQL(ts.CREATE_BIGRAMS_FUNCTION, ts.DROP_BIGRAMS_FUNCTION),
        migrations.RunSQL(ts.CREATE_FUNCTION, ts.CREATE_FUNCTION_0003),
        migrations.RunPython(rederive, migrations.RunPython.noop),
    ]
