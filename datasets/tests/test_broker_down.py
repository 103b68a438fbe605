"""Redis (Celery's broker) down when a document is created.

Repro (ops review): `manage.py ingest` with Redis unreachable ended in a traceback
(kombu.exceptions.OperationalError) after the document's row had committed, and the API's
upload answered 500. The document stayed `queued` with no task: posting it again (the retry)
answered with it and queued nothing, so it waited for a worker restart, and `ingest --wait` run
again after the outage waited for it as long. Now the retry queues it again (a duplicate task
is skipped by the worker), the API answers 503 `unavailable`, and the command one sentence.
"""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from kombu.exceptions import OperationalError as BrokerDown

from datasets import tasks
from datasets.models import Document

pytestmark = pytest.mark.django_db(transaction=True)

CONTENT = b"# Returns\n\nItems can be returned within 30 days with the receipt.\n"


@pytest.fixture
def broker(monkeypatch):
    """``state["down"]`` makes publishing fail; ``state["sent"]``: the ids published."""
    state = {"down": True, "sent": []}

    def delay(document_id):
        if state["down"]:
            raise BrokerDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        state["sent"].append(document_id)

    monkeypatch.setattr(tasks.ingest_document, "delay", delay)
    return state


def _post(api, dataset_id):
    upload = SimpleUploadedFile("returns.md", CONTENT, content_type="text/markdown")
    return api.post(f"/v1/datasets/{dataset_id}/documents", {"file": upload}, format="multipart")


def test_the_upload_is_a_503_and_its_retry_queues_the_document(api, broker):
    dataset_id = api.post("/v1/datasets", {"name": "Policies"}, format="json").json()["id"]
    res = _post(api, dataset_id)
    assert res.status_code == 503, res.content
    assert res.json()["error"]["type"] == "unavailable"
    doc = Document.objects.get()
    assert doc.status == Document.Status.QUEUED
    broker["down"] = False
    res = _post(api, dataset_id)
    assert (res.status_code, res.json()["id"]) == (200, str(doc.id))
    assert broker["sent"] == [str(doc.id)]


def test_ingest_says_redis_is_down_and_queues_the_document_when_run_again(tenant, broker, tmp_path):
    path = tmp_path / "returns.md"
    path.write_bytes(CONTENT)
    args = (str(path),)
    opts = {"tenant": tenant.slug, "dataset": "Inbox", "stdout": io.StringIO()}
    opts["stderr"] = io.StringIO()
    with pytest.raises(CommandError, match=r"^Redis cannot be used right now \(Error 111"):
        call_command("ingest", *args, **opts)
    broker["down"] = False
    call_command("ingest", *args, **opts)
    assert broker["sent"] == [str(Document.objects.get().id)]
