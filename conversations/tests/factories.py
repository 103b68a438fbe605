"""factory_boy factories for bots, scopes, conversations and messages used by the chat tests."""

from __future__ import annotations

import factory

from bots.models import Bot, Scope
from conversations.models import Conversation, Message
from tenants.tests.factories import TenantFactory


class ScopeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scope

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Scope {n}")
    slug = factory.Sequence(lambda n: f"scope-{n}")


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


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    bot = factory.SubFactory(BotFactory)
    bot_slug = factory.LazyAttribute(lambda o: o.bot.slug)  # as conversation_build sets it
    tenant = factory.LazyAttribute(lambda o: o.bot.tenant)
    user = "end-user-1"
    title = factory.Sequence(lambda n: f"Conversation {n}")


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    tenant = factory.LazyAttribute(lambda o: o.conversation.tenant)
    bot = factory.LazyAttribute(lambda o: o.conversation.bot)
    role = Message.Role.USER
    content = factory.Faker("sentence")
