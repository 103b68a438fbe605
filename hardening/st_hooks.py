"""Schemathesis hooks for the two-tenant fuzz run (loaded with ``SCHEMATHESIS_HOOKS``).

The run authenticates as one tenant ("own") while another tenant ("foreign") holds data planted
with canary strings. ``HARDENING_ST_CONTEXT`` (JSON) carries both tenants' object ids, keyed by
URL kwarg name (``bot_id``, ``dataset_id``, ...), and the foreign tenant's canaries.

- Path parameters are drawn from the generated value, our own object's id (so the fuzzer reaches
  real objects and their validation) or the foreign tenant's id (a cross-tenant probe).
- Bodies sometimes carry foreign ids in the reference fields (``datasets``, ``bots``, ...).
- The ``no_cross_tenant_access`` check fails a case when any response carries a foreign canary,
  a foreign id the request did not send, or succeeds (2xx) on a foreign object in its path, or
  stores a foreign reference (2xx echoing a foreign id sent in the body).
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis
from hypothesis import strategies as st

CONTEXT: dict[str, Any] = json.loads(os.environ.get("HARDENING_ST_CONTEXT") or "{}")
OWN: dict[str, str] = CONTEXT.get("own", {})
FOREIGN: dict[str, str] = CONTEXT.get("foreign", {})
CANARIES: list[str] = CONTEXT.get("foreign_canaries", [])
# Never point the fuzzer at the key it authenticates with: one DELETE would end the run.
OWN_PROTECTED = {"key_id"}

# Body fields that reference other objects, and the id kind each one takes.
REFERENCE_FIELDS = {
    "datasets": "dataset_id",
    "bots": "bot_id",
    "scopes": "scope_id",
    "default_scope": "scope_id",
    "bot": "bot_id",
    "scope": "scope_id",
    "conversation_id": "conversation_id",
    "dataset": "dataset_id",
}
LIST_FIELDS = {"datasets", "bots", "scopes"}


@schemathesis.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    params = dict(path_parameters or {})
    operation = getattr(context, "operation", None)
    # Deleting our own seeded objects early would leave the rest of the run nothing to reach.
    deleting = str(getattr(operation, "method", "")).upper() == "DELETE"
    choices = [params]
    for name in params:
        if name in FOREIGN:
            choices.append({**params, name: FOREIGN[name]})
        if name in OWN and name not in OWN_PROTECTED and not deleting:
            choices.append({**params, name: OWN[name]})
    return st.sampled_from(choices)


@schemathesis.hook
def flatmap_body(context: Any, body: Any) -> Any:
    if not isinstance(body, dict):
        return st.just(body)
    probed = dict(body)
    touched = False
    for field, kind in REFERENCE_FIELDS.items():
        if field in probed and kind in FOREIGN:
            probed[field] = [FOREIGN[kind]] if field in LIST_FIELDS else FOREIGN[kind]
            touched = True
    return st.sampled_from([body, probed]) if touched else st.just(body)


def _request_text(case: Any) -> str:
    parts = [json.dumps(case.path_parameters or {}, default=str)]
    parts.append(json.dumps(case.query or {}, default=str))
    try:
        parts.append(json.dumps(case.body, default=str))
    except (TypeError, ValueError):
        parts.append(str(case.body))
    return " ".join(parts)


@schemathesis.check
def no_cross_tenant_access(ctx: Any, response: Any, case: Any) -> bool | None:
    text = response.text or ""
    for canary in CANARIES:
        if canary in text:
            raise AssertionError(f"The response carries another tenant's canary {canary!r}.")
    sent = _request_text(case)
    ok = 200 <= response.status_code < 300
    for kind, foreign_id in FOREIGN.items():
        if foreign_id in text and foreign_id not in sent:
            raise AssertionError(f"The response carries another tenant's {kind} {foreign_id}.")
        if ok and foreign_id in json.dumps(case.path_parameters or {}, default=str):
            raise AssertionError(
                f"{case.method} succeeded ({response.status_code}) on another tenant's "
                f"{kind} {foreign_id}; it must be 404."
            )
        if ok and foreign_id in sent and foreign_id in text:
            raise AssertionError(
                f"{case.method} {case.path} accepted another tenant's {kind} {foreign_id} "
                f"as a reference ({response.status_code})."
            )
    return None
