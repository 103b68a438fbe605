"""Routes and objects for the generated cross-tenant and permission matrices.

Routes come from the URL resolver, so a route another app adds later is covered without editing
the tests. Each ``<id:kwarg>`` maps to a factory (imported lazily by name); a kwarg whose
factory module does not exist yet is skipped with a message, an unknown kwarg fails.
"""

from __future__ import annotations

import importlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

WRITE_METHODS = ("post", "put", "patch", "delete")
ALL_METHODS = ("get", *WRITE_METHODS)


@dataclass(frozen=True)
class Spec:
    module: str
    factory: str
    deps: dict[str, str] = field(default_factory=dict)  # factory kwarg -> world kwarg


REGISTRY: dict[str, Spec] = {
    "bot_id": Spec("bots.tests.factories", "BotFactory"),
    "scope_id": Spec("bots.tests.factories", "ScopeFactory"),
    "dataset_id": Spec("datasets.tests.factories", "DatasetFactory"),
    "document_id": Spec("datasets.tests.factories", "DocumentFactory", {"dataset": "dataset_id"}),
    "conversation_id": Spec(
        "conversations.tests.factories", "ConversationFactory", {"bot": "bot_id"}
    ),
    "message_id": Spec(
        "conversations.tests.factories", "MessageFactory", {"conversation": "conversation_id"}
    ),
    "key_id": Spec("apikeys.tests.factories", "APIKeyFactory"),
}

# Bodies sent with write methods, by the route's last literal segment (so that a view which
# validates its body before looking the object up still reaches the lookup).
SAMPLE_BODIES: dict[str, dict[str, Any]] = {
    "feedback": {"rating": "up"},
    "documents": {"text": "hello", "title": "t"},
}

_PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    template: str  # "/v1/bots/<id:bot_id>"
    callback: Any

    @property
    def kwargs(self) -> list[str]:
        return [m.group("name") for m in _PARAM.finditer(self.template)]

    @property
    def converters(self) -> set[str]:
        return {m.group("conv") or "str" for m in _PARAM.finditer(self.template)}

    @property
    def view_class(self) -> Any:
        return getattr(self.callback, "cls", None) or getattr(self.callback, "view_class", None)

    @property
    def methods(self) -> tuple[str, ...] | None:
        """Methods the view implements, or None for a function view (unknown)."""
        cls = self.view_class
        if cls is None:
            return None
        return tuple(m for m in ALL_METHODS if hasattr(cls, m))

    @property
    def is_public(self) -> bool:
        cls = self.view_class
        return cls is not None and getattr(cls, "authentication_classes", None) == []

    def url(self, values: dict[str, Any]) -> str:
        return _PARAM.sub(lambda m: str(values[m.group("name")]), self.template)

    def body(self) -> dict[str, Any]:
        literal = [p for p in self.template.split("/") if p and "<" not in p]
        return SAMPLE_BODIES.get(literal[-1] if literal else "", {})

    def __str__(self) -> str:
        return self.template


def _walk(patterns: list, prefix: str) -> list[Route]:
    out: list[Route] = []
    for p in patterns:
        part = str(p.pattern)
        if isinstance(p, URLResolver):
            out += _walk(p.url_patterns, prefix + part)
        elif isinstance(p, URLPattern):
            out.append(Route("/" + prefix + part, p.callback))
    return out


def api_routes() -> list[Route]:
    """Every route under /v1/ (path() routes; regex routes are not used by the API)."""
    return [r for r in _walk(get_resolver().url_patterns, "") if r.template.startswith("/v1/")]


def object_routes() -> list[Route]:
    return [r for r in api_routes() if r.kwargs and r.converters == {"id"}]


def collection_routes() -> list[Route]:
    skip = ("/v1/health", "/v1/schema", "/v1/auth/")
    return [r for r in api_routes() if not r.kwargs and not r.template.startswith(skip)]


class World:
    """Objects of one tenant, created on demand and consistent with each other."""

    def __init__(self, tenant: Any) -> None:
        self.tenant = tenant
        self.objects: dict[str, Any] = {}

    def get(self, kwarg: str) -> Any:
        if kwarg in self.objects:
            return self.objects[kwarg]
        spec = REGISTRY.get(kwarg)
        if spec is None:
            pytest.fail(
                f"URL kwarg {kwarg!r} has no factory: add it to REGISTRY in "
                "tenants/tests/matrix.py so the cross-tenant matrix covers its routes."
            )
        try:
            module = importlib.import_module(spec.module)
        except ModuleNotFoundError:
            pytest.skip(f"{spec.module} does not exist yet; routes with {kwarg} are not covered.")
        factory = getattr(module, spec.factory, None)
        if factory is None:
            pytest.skip(f"{spec.module}.{spec.factory} does not exist yet; {kwarg} not covered.")
        extra = {name: self.get(dep) for name, dep in spec.deps.items()}
        self.objects[kwarg] = factory(tenant=self.tenant, **extra)
        return self.objects[kwarg]

    def values_for(self, route: Route) -> dict[str, Any]:
        return {k: self.get(k).pk for k in route.kwargs}

    def everything(self) -> list[Any]:
        return [self.get(k) for k in REGISTRY if _importable(REGISTRY[k])]


def _importable(spec: Spec) -> bool:
    try:
        return hasattr(importlib.import_module(spec.module), spec.factory)
    except ModuleNotFoundError:
        return False


def random_values(route: Route) -> dict[str, Any]:
    return {k: uuid.uuid4() for k in route.kwargs}
