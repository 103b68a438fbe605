"""``<id:...>`` in URL patterns: a UUID in any letter case.

Django's ``<uuid:...>`` matches lowercase hex only, so ``/v1/bots/3F2504E0-4F89-...`` (an id as
some languages print it: .NET, SQL Server, Excel) matched no route at all: a 404 saying the
route does not exist, for an object that does. Importing this module registers the converter
(each app's urls.py does); the view receives a ``uuid.UUID`` as before.
"""

from __future__ import annotations

import uuid

from django.urls import register_converter

HEX = "[0-9a-fA-F]"


class AnyCaseUUIDConverter:
    regex = f"{HEX}{{8}}-{HEX}{{4}}-{HEX}{{4}}-{HEX}{{4}}-{HEX}{{12}}"

    def to_python(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_url(self, value: uuid.UUID | str) -> str:
        return str(value).lower()


register_converter(AnyCaseUUIDConverter, "id")
