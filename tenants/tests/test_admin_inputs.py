"""Odd input on the admin's forms is a form error, never a 500."""

from __future__ import annotations

import pytest

from tenants.tests.admin_support import admin_url, as_posted

pytestmark = pytest.mark.django_db

REFUSED_JSON = {
    "nan": ('{"a": NaN}', "NaN is not a JSON number"),
    "infinity": ('{"a": -Infinity}', "Infinity is not a JSON number"),
    "overflow": ('{"a": 1e999}', "too large"),
    "nul": ('{"a": "x\\u0000"}', "NUL character"),
    "surrogate": ('{"a": "\\ud800"}', "surrogate"),
    "deep": ("[" * 5000 + "]" * 5000, "nested deeper"),
    "broken": ('{"a": ', "Enter a valid JSON."),
}


@pytest.mark.parametrize("case", sorted(REFUSED_JSON))
@pytest.mark.parametrize(
    ("kind", "field"),
    [("conversation", "metadata"), ("message", "metadata"), ("tenant", "quotas")],
)
def test_json_the_database_cannot_store_is_a_form_error(superuser, acme, tenant, kind, field, case):
    """Django's JSON form field took NaN, Infinity, 1e999, NUL and lone surrogates (then a
    DataError on save) and deep nesting (a RecursionError): each was a 500."""
    obj = tenant if kind == "tenant" else acme[kind]
    text, expected = REFUSED_JSON[case]
    form = superuser.get(admin_url(obj)).context["adminform"].form
    res = superuser.post(admin_url(obj), as_posted(form, **{field: text}))
    assert res.status_code == 200  # the form again, with the error
    errors = res.context["adminform"].form.errors
    assert expected in str(errors[field]), errors
    assert getattr(type(obj).objects.get(pk=obj.pk), field) == getattr(obj, field)


def test_storable_json_is_still_saved(superuser, acme):
    conversation = acme["conversation"]
    form = superuser.get(admin_url(conversation)).context["adminform"].form
    value = '{"note": "caf\\u00e9", "n": [1, 2.5, null]}'
    res = superuser.post(admin_url(conversation), as_posted(form, metadata=value))
    assert res.status_code == 302, res.context["adminform"].form.errors
    conversation.refresh_from_db()
    assert conversation.metadata == {"note": "café", "n": [1, 2.5, None]}
