"""``POST /v1/retrieve`` in the fast lane (``chatbot_project.fastlane``): plain requests without
Django's request cycle, everything else through the Django view (``apis.retrieve_view``).

Why: the retrieval benchmark's goal is API p50 <= 1.3x the raw SQL p50; for a 1.3 ms search that
leaves ~0.4 ms for the whole API, and Django's cycle alone took 1.1-1.9 ms (bench/README.md).

Plain here: a JSON body the fast validator takes as it is (``apis._plain_retrieve_input``: with
``bot``, without ``datasets``) and no ``scope``, and a credential with the ``chat`` permission
(``fastlane.authenticated``). The work is then what the view does: on the event loop, the
rate-limit hit and the question's cached embedding in one Redis script call (``_limit``, on the
loop's lean connection: ``chatbot_project.redis_lane``); then in one DB-thread hop (``_serve``)
the bot (confirmed in the search's round trip), the search (``apis._retrieve``) and the JSON
body. (The Redis call used to run in the DB thread through redis-py: ~0.5-0.8 ms of thread
scheduling and GIL there, bench/README.md.) An API key last verified more than
API_KEY_CACHE_SECONDS ago is confirmed in the search's round trip too
(``fastlane.lane(aged_keys=True)``).
"""

from __future__ import annotations

from typing import Any

from chatbot_project import fastlane, jsonbody
from chatbot_project.errors import APIError, error_body

PATH = "/v1/retrieve"


def application(django_app: Any) -> Any:
    return fastlane.lane(PATH, django_app, _parse, _answer, "chat", aged_keys=True)


def _parse(body: bytes) -> dict[str, Any] | None:
    """The validated params of a request this lane answers, else None."""
    from conversations.apis import _plain_retrieve_input

    try:
        params = _plain_retrieve_input(jsonbody.loads(body or b"null"))
    except ValueError:
        return None
    return None if params is None or "scope" in params else params


def _serve(
    context: Any, params: dict[str, Any], limited: Any, key_check: Any = None
) -> tuple[int, bytes, dict[str, str], Any] | None:
    """The request's work in one DB-thread hop. Returns (status, JSON body, extra headers,
    rate-limit decision or None), or None when ``key_check`` (an aged API key, see
    ``fastlane.lane``) was not confirmed: what was done with it is dropped, Django answers."""
    if key_check is None:
        return _work(context, params, limited)
    with key_check.riding():  # the key's rows ride the search's round trip
        result = _work(context, params, limited)
    try:
        return result if key_check.confirmed() else None
    except Exception:  # the database went away: Django's path answers (its 503)
        return None


async def _limit(context: Any, params: dict[str, Any]) -> tuple[Any, Any, Any]:
    """(question, its cache key or None, (decision, cached vector or None) or the exception
    raised): the outcome is handed to ``_work``, which raises it there, so an aged key's
    confirmation still decides who answers (a revoked key gets Django's 401, not a 429)."""
    from apikeys.ratelimit import ahit, ahit_and_get
    from datasets import query_embeddings

    question = params["query"] if params.get("mode") != "keyword" else None
    tenant_id = context.tenant.id
    key = query_embeddings.ready_key(question, tenant_id) if question else None
    try:
        if key is not None:
            return question, key, await ahit_and_get(context, key)
        return question, key, (await ahit(context, bucket="api"), None)
    except Exception as exc:
        return question, key, exc


def _work(
    context: Any, params: dict[str, Any], limited: tuple[Any, Any, Any]
) -> tuple[int, bytes, dict[str, str], Any]:
    from apikeys.ratelimit import rate_limited_error
    from conversations.apis import _retrieve
    from datasets import query_embeddings

    decision = None
    try:
        question, key, outcome = limited
        if isinstance(outcome, BaseException):
            raise outcome
        decision, raw = outcome
        if not decision.allowed:
            raise rate_limited_error(decision)
        embedding = (
            query_embeddings.after_lookup(question, key, raw, tenant_id=context.tenant.id)
            if question
            else None
        )
        body = _retrieve(context, params, embedding)
        return 200, fastlane.encode_json(body).encode(), {}, decision
    except APIError as exc:
        body = error_body(exc.type, str(exc.detail), exc.details)
        return exc.status_code, fastlane.encode_json(body).encode(), exc.headers, decision
    except Exception as exc:
        fastlane.error_log.exception("Internal Server Error: %s", PATH)
        status, body, headers = fastlane.internal_error(exc)
        return status, fastlane.encode_json(body).encode(), headers, decision


async def _answer(
    request: fastlane.FastRequest, params: Any, context: Any, receive: Any, send: Any
) -> bool:
    from conversations.dbthreads import db_sync

    limited = await _limit(context, params)
    result = await db_sync(_serve)(context, params, limited, request.key_check)
    if result is None:
        return False
    status, body, extra, request.rate_limit_decision = result
    await fastlane.send_json(send, request, status, body, extra, context)
    return True
