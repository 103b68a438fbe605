"""factory_boy factories for bots and scopes."""

from __future__ import annotations

import factory

from bots.models import Bot, Scope
from tenants.tests.factories import TenantFactory


class ScopeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scope
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Scope {n}")
    slug = factory.Sequence(lambda n: f"scope-{n}")

    @factory.post_generation
    def datasets(self, create, extracted, **kwargs):
        if create and extracted:
            self.datasets.set(extracted)


class BotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bot
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Bot {n}")
    slug = factory.Sequence(lambda n: f"bot-{n}")
    system_prompt = "You answer questions about the test documents."

    @factory.post_generation
    def datasets(self, create, extracted, **kwargs):
        if create and extracted:
            self.datasets.set(extracted)
