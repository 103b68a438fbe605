"""A lean OpenAI-compatible upstream for the chat benchmark: asyncio (uvloop when installed), one
thread, streamed ``/v1/chat/completions`` only, in the same wire format as the test stub
(``chatbot_project.testing.openai_stub``: a role chunk, one chunk per token, a finish chunk, a
usage chunk when asked, ``[DONE]``; chunked transfer encoding; keep-alive).

Why a second stub: the test stub is a ThreadingHTTPServer, one thread per connection. Holding
~2,000 streams it ran ~2,000 threads and, from ~1,800 open streams, kept hundreds of them
runnable at once (load average ~500 on this 2-core machine): the scheduler then starved the
server's single event-loop thread, and the benchmark measured the stub (bench/README.md,
"Capacity"). Here a stream costs a timer per token.

    python bench/asyncstub.py --port 8900 --reply "tok tok tok" --token-delay 1.0
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from chatbot_project.testing.openai_stub import tokenize


def _frame(payload: dict) -> bytes:
    """One SSE ``data:`` event as one HTTP chunk."""
    data = f"data: {json.dumps(payload)}\n\n".encode()
    return b"%x\r\n%s\r\n" % (len(data), data)


def _chunk(created: int, model: str, delta: dict, finish: str | None = None) -> bytes:
    return _frame({
        "id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": created,
        "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    })  # fmt: skip


class Stub:
    def __init__(self, reply: str, token_delay: float) -> None:
        self.tokens = tokenize(reply)
        self.token_delay = token_delay

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = json.loads(await reader.readexactly(length) or b"{}")
                if not head.startswith(b"POST ") or b"/chat/completions" not in head[:200]:
                    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    continue
                await self._stream(body, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _stream(self, body: dict, writer: asyncio.StreamWriter) -> None:
        model, created = body.get("model") or "stub-model", int(time.time())
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + _chunk(created, model, {"role": "assistant"})
        )
        for i, token in enumerate(self.tokens):
            if i and self.token_delay:
                await asyncio.sleep(self.token_delay)
            writer.write(_chunk(created, model, {"content": token}))
            if writer.is_closing():
                raise ConnectionError
        tail = _chunk(created, model, {}, "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
            usage = {"prompt_tokens": prompt, "completion_tokens": len(self.tokens),
                     "total_tokens": prompt + len(self.tokens)}  # fmt: skip
            tail += _frame({
                "id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": created,
                "model": model, "choices": [], "usage": usage,
            })  # fmt: skip
        done = b"data: [DONE]\n\n"
        writer.write(tail + b"%x\r\n%s\r\n0\r\n\r\n" % (len(done), done))
        await writer.drain()


async def main(port: int, reply: str, token_delay: float) -> None:
    stub = Stub(reply, token_delay)
    server = await asyncio.start_server(stub.serve, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--reply", default="Hello from the stub model.")
    parser.add_argument("--token-delay", type=float, default=0.0)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(args.port, args.reply, args.token_delay))
