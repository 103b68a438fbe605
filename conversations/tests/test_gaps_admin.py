"""Content gaps in the Django admin (conversations/gaps_admin.py): the rows of
``conversations.gaps`` for the tenants a staff user may see, never another tenant's; the
tenant, bot, period and rated-down filters; who may open it; its link on the admin index."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Message
from conversations.tests.factories import BotFactory, ConversationFactory, MessageFactory
from tenants.tests.admin_support import APPS, admin_client, staff_client
from tenants.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/admin/conversations/gaps/"


def turn(bot, question, *, days_ago=1, **answer):
    """A question and its answer (by default complete with no citation: a gap)."""
    conv = ConversationFactory(bot=bot)
    asked = MessageFactory(conversation=conv, role="user", content=question)
    fields = {"content": "Nothing found.", "finish_reason": "stop", "citations": [], **answer}
    answered = MessageFactory(conversation=conv, role="assistant", **fields)
    at = timezone.now() - timedelta(days=days_ago)
    Message.objects.filter(pk=asked.pk).update(created_at=at)
    Message.objects.filter(pk=answered.pk).update(created_at=at + timedelta(seconds=2))
    return answered


def page(client, query=""):
    res = client.get(URL + query)
    assert res.status_code == 200, res.content[:2000]
    assert "script-src 'self'" in res.headers["Content-Security-Policy"]
    return res


def shown(res):
    return [(row["question"], row["count"]) for row in res.context["rows"]]


@pytest.fixture
def bots(tenant, other_tenant):
    return {
        "acme": BotFactory(tenant=tenant, slug="helper"),
        "acme2": BotFactory(tenant=tenant, slug="sales"),
        "globex": BotFactory(tenant=other_tenant, slug="helper"),
    }


def test_staff_see_their_tenants_gaps_with_a_link_and_never_another_tenants(client, tenant, bots):
    first = turn(bots["acme"], "Where is <b>Ulan Bator</b>?")
    turn(bots["acme"], "where is <b>ulan bator</b>", days_ago=2)
    turn(bots["acme"], "Covered question?", citations=[{"index": 1, "chunk_id": "c"}])
    turn(bots["acme"], "Blocked?", refused=True, finish_reason="refused", refusal_reason="blocked")
    turn(bots["globex"], "Globex secret plans?")
    staff = staff_client(client, {tenant: "owner"})
    res = page(staff)
    assert shown(res) == [("Where is <b>Ulan Bator</b>?", 2)]
    body = res.content.decode()
    assert "Where is &lt;b&gt;Ulan Bator&lt;/b&gt;?" in body  # escaped
    assert "<b>Ulan" not in body
    assert "Globex" not in body
    assert f'href="/admin/conversations/conversation/{first.conversation_id}/change/"' in body
    row = res.context["rows"][0]
    assert row["bots"] == ["helper"]
    assert row["reason_labels"] == ["answered without sources"]
    assert "By tenant" not in body  # one tenant: no tenant filter
    # Another tenant's id finds nothing of it.
    res = page(staff, f"?tenant={bots['globex'].tenant_id}")
    assert shown(res) == []
    assert "Globex" not in res.content.decode()
    assert "not one of yours" in res.content.decode()


def test_the_bot_period_and_rated_down_filters(client, tenant, bots):
    turn(bots["acme"], "Helper question?")
    turn(bots["acme2"], "Sales question?", days_ago=20)
    turn(bots["acme"], "Old question?", days_ago=100)
    turn(bots["acme"], "Rated down?", citations=[{"index": 1}], feedback_rating="down")
    turn(bots["globex"], "Globex helper question?")
    staff = staff_client(client, {tenant: "member"})  # reading needs no more than member
    everything = {"Helper question?", "Sales question?", "Old question?"}
    assert {q for q, _ in shown(page(staff))} == everything
    assert {q for q, _ in shown(page(staff, "?bot=helper"))} == {
        "Helper question?",
        "Old question?",
    }
    assert {q for q, _ in shown(page(staff, "?bot=sales"))} == {"Sales question?"}
    assert {q for q, _ in shown(page(staff, "?period=7"))} == {"Helper question?"}
    assert {q for q, _ in shown(page(staff, "?period=30"))} == everything - {"Old question?"}
    assert {q for q, _ in shown(page(staff, "?period=90&bot=sales"))} == {"Sales question?"}
    rated = page(staff, "?rated_down=1&period=7")
    assert {q for q, _ in shown(rated)} == {"Helper question?", "Rated down?"}
    assert (
        "rated down"
        in rated.context["rows"][0]["reason_labels"] + rated.context["rows"][1]["reason_labels"]
    )
    # Filter links keep the other filters.
    assert 'href="?bot=helper&amp;period=7&amp;rated_down=1"' in rated.content.decode()
    # An unknown bot (or another tenant's only slug) filters nothing in: every bot, said so.
    res = page(staff, "?bot=nope")
    assert {q for q, _ in shown(res)} == everything
    assert "No bot of that name" in res.content.decode()
    assert staff.get(URL + "?bot=nope%00").status_code == 400  # (the middleware's, not a 500)


def test_staff_of_several_tenants_see_them_merged_or_one_by_the_tenant_filter(
    client, tenant, other_tenant, bots
):
    turn(bots["acme"], "Acme question?")
    turn(bots["globex"], "Globex question?")
    turn(bots["globex"], "Globex question?", days_ago=2)
    staff = staff_client(client, {tenant: "owner", other_tenant: "member"})
    res = page(staff)
    assert shown(res) == [("Globex question?", 2), ("Acme question?", 1)]
    assert res.context["show_tenant"] is True
    assert "By tenant" in res.content.decode()
    assert shown(page(staff, f"?tenant={tenant.pk}")) == [("Acme question?", 1)]
    assert shown(page(staff, f"?tenant={other_tenant.pk}")) == [("Globex question?", 2)]
    assert shown(page(staff, "?tenant=not-a-uuid")) == []


def test_superusers_see_every_tenant(client, tenant, other_tenant, bots):
    turn(bots["acme"], "Acme question?")
    turn(bots["globex"], "Globex question?")
    root = admin_client(client, UserFactory(username="root", is_staff=True, is_superuser=True))
    assert {q for q, _ in shown(page(root))} == {"Acme question?", "Globex question?"}
    assert shown(page(root, f"?tenant={other_tenant.pk}")) == [("Globex question?", 1)]


def test_one_tenant_pages_on(client, tenant, bots, monkeypatch):
    monkeypatch.setattr("conversations.gaps_admin.PAGE", 2)
    for n in range(3):
        turn(bots["acme"], f"Question {n}?", days_ago=n + 1)
    staff = staff_client(client, {tenant: "owner"})
    first = page(staff, "?period=30")
    assert shown(first) == [("Question 0?", 1), ("Question 1?", 1)]
    following = first.context["next_url"]
    assert following.startswith("?period=30&after=")
    second = page(staff, following)
    assert shown(second) == [("Question 2?", 1)]
    assert second.context["next_url"] is None
    assert second.context["first_url"] == "?period=30"
    broken = page(staff, "?after=%%%")  # a spoiled link: the first page, said so
    assert len(shown(broken)) == 2
    assert "not valid" in broken.content.decode()


def test_who_may_open_it_and_the_link_on_the_index(client, tenant, bots):
    turn(bots["acme"], "Acme question?")
    anonymous = client.get(URL)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/admin/login/")
    # A member who is not staff: the admin's login.
    user = UserFactory(username="plain")
    client.force_login(user)
    res = client.get(URL)
    assert res.status_code == 302
    assert res["Location"].startswith("/admin/login/")
    client.logout()
    # Staff without the view permission on messages: refused, and not listed on the index.
    no_messages = staff_client(client, {tenant: "owner"}, username="bots-only", apps=("bots",))
    assert no_messages.get(URL).status_code == 403
    assert URL not in no_messages.get("/admin/").content.decode()
    no_messages.logout()
    staff = staff_client(client, {tenant: "member"}, apps=APPS)
    for index in ("/admin/", "/admin/conversations/"):
        body = staff.get(index).content.decode()
        assert f'<a href="{URL}">Content gaps</a>' in body, index


def test_past_the_merged_tenants_a_tenant_is_chosen_and_no_tenant_shows_nothing(
    client, tenant, other_tenant, bots, monkeypatch
):
    turn(bots["acme"], "Acme question?")
    turn(bots["globex"], "Globex question?")
    monkeypatch.setattr("conversations.gaps_admin.MERGED_TENANTS", 1)
    root = admin_client(client, UserFactory(username="root", is_staff=True, is_superuser=True))
    res = page(root)
    assert shown(res) == []
    assert "Choose a tenant" in res.content.decode()
    assert shown(page(root, f"?tenant={tenant.pk}")) == [("Acme question?", 1)]
    root.logout()
    nobody = staff_client(client, {}, username="no-tenant")  # staff of no tenant: nothing
    res = page(nobody)
    assert shown(res) == []
    assert shown(page(nobody, f"?tenant={tenant.pk}")) == []
