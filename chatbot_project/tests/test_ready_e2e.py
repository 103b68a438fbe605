"""/v1/health/ready against a real Celery worker process: 200 with it, 503 naming it without."""

from __future__ import annotations

import pytest

from chatbot_project.testing.processes import running_worker

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_ready_is_200_with_a_worker_and_503_after_it_stops(client):
    with running_worker(name="ready"):
        res = client.get("/v1/health/ready")
        body = res.json()
        assert res.status_code == 200, body
        assert body["status"] == "ok"
        assert all(check["ok"] for check in body["checks"].values())
    res = client.get("/v1/health/ready")
    assert res.status_code == 503
    body = res.json()
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
