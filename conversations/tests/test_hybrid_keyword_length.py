"""The keyword list a hybrid search fuses is length-normalised (``ts_rank`` normalisation 1):
a long chunk that repeats the question's words no longer outranks a short chunk that answers
it just for its length. Keyword mode alone keeps the unnormalised ranking (better there on the
dev questions; bench/README.md, "Length normalisation in the fused keyword list")."""

from __future__ import annotations

import pytest

from conversations.tests.conftest import embed_cached
from datasets.retrieval import _Filter, hybrid_search, retrieve
from datasets.tests.factories import ChunkFactory, DatasetFactory, DocumentFactory

pytestmark = pytest.mark.django_db

Q = "How do I change the widget colour?"
FILLER = " ".join(f"word{i}" for i in range(400))


def _chunk(dataset, title, text):
    doc = DocumentFactory(dataset=dataset, title=title)
    ChunkFactory(document=doc, index=0, text=text, embedding=list(embed_cached(text)))


def test_the_fused_keyword_list_is_length_normalised(tenant):
    dataset = DatasetFactory(tenant=tenant, name="kb")
    long_text = " ".join(["Change the widget colour, change the widget size. " + FILLER] * 3)
    _chunk(dataset, "Long", long_text)
    _chunk(dataset, "Short", "Change the widget colour with --cb-accent.")
    keyword = retrieve(tenant=tenant, query=Q, dataset_ids=[dataset.id], top_k=2, mode="keyword")
    assert [r.document_title for r in keyword] == ["Long", "Short"]  # more matches, unnormalised
    flt = _Filter(tenant_id=str(tenant.id), dataset_ids=(str(dataset.id),), tags=None)
    _, fused_keyword = hybrid_search(flt, Q, list(embed_cached(Q)), 10)
    titles = [row[5] for row in fused_keyword]
    assert titles == ["Short", "Long"]
