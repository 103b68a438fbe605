"""factory_boy factory for API key rows (the raw key is thrown away).

For a key a test can authenticate with, use the ``make_key`` fixture or ``api_key_create``.
"""

from __future__ import annotations

import factory

from apikeys import keys
from apikeys.models import APIKey
from tenants.tests.factories import TenantFactory


class APIKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = APIKey
        exclude = ("raw",)

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Key {n}")
    raw = factory.LazyFunction(keys.generate)
    prefix = factory.LazyAttribute(lambda o: keys.public_prefix(o.raw))
    key_hash = factory.LazyAttribute(lambda o: keys.hash_key(o.raw))
    permissions = factory.LazyFunction(lambda: ["chat", "read"])
