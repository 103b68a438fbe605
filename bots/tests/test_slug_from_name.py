"""A bot or scope created without a slug gets one made from its name; a name that gives none
(no Latin letters or digits: Japanese, emoji) is a 400 that says so and names the field, where
it said "give a slug ..." to a client that had given none, with no ``details``."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("route", ["/v1/bots", "/v1/scopes"])
@pytest.mark.parametrize("name", ["日本語ボット", "🤖🤖", "---"])
def test_a_name_that_gives_no_slug_asks_for_one(api, route, name):
    res = api.post(route, {"name": name}, format="json")
    assert res.status_code == 400, res.json()
    error = res.json()["error"]
    assert error["message"] == (
        f"slug: no slug can be made from the name {name!r}; send a `slug` of lowercase "
        'letters a-z, digits and hyphens, e.g. "support".'
    )
    assert list(error["details"]["fields"]) == ["slug"]
    assert api.post(route, {"name": name, "slug": "support"}, format="json").status_code == 201


def test_a_latin_name_still_gives_its_slug(api):
    res = api.post("/v1/bots", {"name": "Café Support Bot"}, format="json")
    assert res.status_code == 201, res.json()
    assert res.json()["slug"] == "cafe-support-bot"
