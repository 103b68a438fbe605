from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from tenants.models import TenantOwned, slug_validator


def check_slug_is_not_an_id(slug: str) -> None:
    """Bots and scopes are named by slug or id (chat, /v1/retrieve, the OpenAI route's `model`,
    ?bot= filters), and a value that reads as a UUID is looked up as an id: a slug of that form
    (``12345678-1234-5678-1234-567812345678``, or 32 hex digits) could never be found by it."""
    try:
        uuid.UUID(slug)
    except ValueError:
        return
    raise ValidationError(
        {"slug": "A slug cannot have the form of an id (a UUID): bots and scopes are looked up by "
         "slug or id. Choose another slug."}
    )  # fmt: skip


DEFAULT_REFUSAL = "Sorry, I can't help with that request."


class Scope(TenantOwned):
    """Access control and guardrails for a chat: what may be read, what may be asked/answered."""

    name = models.CharField(max_length=200)
    slug = models.CharField(max_length=64, validators=[slug_validator])
    datasets = models.ManyToManyField("datasets.Dataset", blank=True, related_name="+")
    # An empty ``datasets`` reads as "any of the bot's datasets"; this tells a scope whose listed
    # datasets were all deleted (limited to none) apart from one that never listed any.
    limited_to_datasets = models.BooleanField(
        default=False, help_text="Only the datasets listed (none, once they are all deleted)."
    )
    document_tags = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    blocked_topics = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    blocked_terms = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    redact_terms = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    # The default is answered in the question's language (conversations.refusals); a text
    # set by the tenant, as written.
    refusal_message = models.CharField(max_length=1000, default=DEFAULT_REFUSAL, blank=True)
    require_grounding = models.BooleanField(default=False)
    max_input_chars = models.PositiveIntegerField(
        default=4000, validators=[MinValueValidator(1), MaxValueValidator(100_000)]
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "slug"], name="scope_unique_slug")]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="scope_tenant_created_idx")]

    def __str__(self) -> str:
        return self.slug

    def clean(self) -> None:
        check_slug_is_not_an_id(self.slug)


class Bot(TenantOwned):
    class RetrievalMode(models.TextChoices):
        VECTOR = "vector"
        KEYWORD = "keyword"
        HYBRID = "hybrid"

    name = models.CharField(max_length=200)
    slug = models.CharField(max_length=64, validators=[slug_validator])
    system_prompt = models.TextField(blank=True, default="")
    model = models.CharField(max_length=100, blank=True, default="")
    temperature = models.FloatField(
        default=0.2, validators=[MinValueValidator(0.0), MaxValueValidator(2.0)]
    )
    max_tokens = models.PositiveIntegerField(
        default=512, validators=[MinValueValidator(1), MaxValueValidator(16_384)]
    )
    datasets = models.ManyToManyField("datasets.Dataset", blank=True, related_name="+")
    top_k = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    score_threshold = models.FloatField(
        default=0.0, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    retrieval_mode = models.CharField(
        max_length=10, choices=RetrievalMode.choices, default=RetrievalMode.HYBRID
    )
    # RESTRICT: a scope that is a bot's default cannot be deleted on its own (deleting it used
    # to clear the default, silently lifting its guardrails and dataset limit from every chat
    # that names no scope, a widget's included); deleting the tenant takes both.
    default_scope = models.ForeignKey(
        Scope, null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "slug"], name="bot_unique_slug")]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="bot_tenant_created_idx")]

    def __str__(self) -> str:
        return self.slug

    def clean(self) -> None:
        check_slug_is_not_an_id(self.slug)
