"""The same content uploaded by several clients at once is one document (guard, helper-68).

Each upload checks for the content before storing it; two racing uploads both see none. The
tenant's row (quota) serialises their inserts and the unique (tenant, dataset, content_hash)
constraint catches the loser, which answers with the winner's document. Pinned here with real
concurrent requests: one document, one stored file, one task, every answer naming it, no 500.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections

from chatbot_project.redis_client import get_redis
from datasets.models import Document

pytestmark = pytest.mark.django_db(transaction=True)

UPLOADERS = 6


def test_racing_uploads_of_the_same_content_make_one_document(client_for, tenant):
    clients = [client_for(tenant) for _ in range(UPLOADERS)]
    ds = clients[0].post("/v1/datasets", {"name": "Race"}, format="json").json()
    start = threading.Barrier(UPLOADERS)
    answers: list = []

    def upload(client) -> None:
        try:
            content = b"# Returns\n\nItems can be returned within 30 days with the receipt.\n"
            file = SimpleUploadedFile("returns.md", content, content_type="text/markdown")
            start.wait(10)
            res = client.post(
                f"/v1/datasets/{ds['id']}/documents", {"file": file}, format="multipart"
            )
            answers.append((res.status_code, res.json().get("id")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=upload, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    doc = Document.objects.get()  # exactly one
    assert sorted(code for code, _ in answers) == [200] * (UPLOADERS - 1) + [202]
    assert {i for _, i in answers} == {str(doc.id)}
    stored = [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    assert [p.name for p in stored] == [Path(doc.file.name).name]  # the losers' copies removed
    tasks = get_redis().lrange("celery", 0, -1)
    assert len(tasks) >= 1  # (a 200 for a still-queued document sends it again: harmless)
