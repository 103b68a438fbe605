"""The `chat` REPL fed by a pipe or file (a script of questions), and arguments it cannot use:
one CommandError sentence up front, never a traceback after the answers."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from conversations.models import Conversation, Message

pytestmark = pytest.mark.django_db(transaction=True)

Q = "How do I limit anonymous clients per day?"


def _stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_piped_questions_ended_by_an_empty_line(kb, settings, monkeypatch):
    settings.CHAT_PROVIDER = "extractive"
    # The empty line ends the REPL while the stream still holds the lines after it.
    _stdin(monkeypatch, Q.encode() + b"\n\nnot asked\n")
    out, err = io.StringIO(), io.StringIO()
    call_command("chat", "--tenant", "acme", "--bot", "helper", stdout=out, stderr=err)
    assert "AnonRateThrottle" in out.getvalue()
    assert list(Message.objects.filter(role="user").values_list("content", flat=True)) == [Q]


def test_repl_with_an_unknown_bot_or_scope_stops_before_the_first_question(kb, monkeypatch):
    asked = []

    def empty_line(prompt: str = "") -> str:  # would end the REPL at once
        asked.append(prompt)
        return ""

    monkeypatch.setattr("builtins.input", empty_line)
    with pytest.raises(CommandError, match="No such bot"):
        call_command("chat", "--tenant", "acme", "--bot", "nope", stdout=io.StringIO())
    with pytest.raises(CommandError, match="No such scope"):
        call_command(
            "chat", "--tenant", "acme", "--bot", "helper", "--scope", "nope",
            stdout=io.StringIO(),
        )  # fmt: skip
    assert asked == []


def test_user_longer_than_the_api_allows_is_refused(kb, settings):
    settings.CHAT_PROVIDER = "extractive"
    with pytest.raises(CommandError, match="--user must be at most 200 characters"):
        call_command(
            "chat", "--tenant", "acme", "--bot", "helper", "--user", "u" * 201, Q,
            stdout=io.StringIO(),
        )  # fmt: skip
    assert not Conversation.objects.exists()
    call_command(
        "chat", "--tenant", "acme", "--bot", "helper", "--user", "u" * 200, Q,
        stdout=io.StringIO(),
    )  # fmt: skip
    assert Conversation.objects.get().user == "u" * 200


def test_an_answer_longer_than_the_revalidation_interval_is_not_cut(kb, openai_stub, settings):
    # The command's context holds no credential: the watcher that ends chats of revoked keys
    # took it for a revoked one and ended every answer streaming longer than the interval.
    from chatbot_project.testing.openai_stub import Script

    settings.CHAT_REVALIDATE_SECONDS = 0.2
    openai_stub.script = Script(reply="one two three four five six seven eight", token_delay=0.15)
    out, err = io.StringIO(), io.StringIO()
    call_command("chat", "--tenant", "acme", "--bot", "helper", Q, stdout=out, stderr=err)
    assert "revoked" not in err.getvalue()
    assert "one two three four five six seven eight" in out.getvalue()
    answer = Message.objects.get(role="assistant")
    assert (answer.finish_reason, answer.content) == ("stop", openai_stub.script.reply)


def _chat_process(stub, *args: str, stdin: bool = False):
    """`manage.py chat` in a real process (SIGINT as a terminal's Ctrl-C sends it)."""
    import signal
    import subprocess
    import sys

    from chatbot_project.testing.processes import BASE_DIR, child_env

    env = child_env(
        CHAT_PROVIDER="openai", OPENAI_BASE_URL=stub.base_url, OPENAI_API_KEY="sk-stub",
        CHAT_MODEL="stub-model", EMBEDDING_PROVIDER="local",
    )  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "manage.py", "chat", "--tenant", "acme", "--bot", "helper", *args],
        cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip


def _interrupt_once_streaming(proc, stub) -> None:
    import signal
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(r.tokens_sent for r in stub.chat_requests()):
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)


@pytest.mark.e2e
def test_ctrl_c_stops_the_answer_saves_it_and_the_repl_goes_on(kb, openai_stub):
    from chatbot_project.testing.openai_stub import Script

    openai_stub.script = Script(reply="slow " * 40, token_delay=0.25)
    proc = _chat_process(openai_stub, stdin=True)
    proc.stdin.write((Q + "\nAnd per user?\n\n").encode())
    proc.stdin.close()
    proc.stdin = None  # (written: communicate() reads the answers only)
    _interrupt_once_streaming(proc, openai_stub)
    openai_stub.script = Script(reply="Use UserRateThrottle.")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert b"Traceback" not in err
    assert b"(stopped; the partial answer is saved as cancelled)" in err
    assert b"Use UserRateThrottle." in out
    conversation = Conversation.objects.get()
    answers = conversation.messages.filter(role="assistant").order_by("created_at")
    assert [a.finish_reason for a in answers] == ["cancelled", "stop"]
    assert answers[0].content.startswith("slow")


@pytest.mark.e2e
def test_ctrl_c_on_a_single_question_exits_130_without_a_traceback(kb, openai_stub):
    from chatbot_project.testing.openai_stub import Script

    openai_stub.script = Script(reply="slow " * 40, token_delay=0.25)
    proc = _chat_process(openai_stub, Q)
    _interrupt_once_streaming(proc, openai_stub)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()[-2000:]
    assert b"Traceback" not in err
    assert Message.objects.get(role="assistant").finish_reason == "cancelled"


def _ctrl_c_while_prepared(monkeypatch, prepared=None) -> tuple[int, str]:
    """Run one chat whose preparation gets a terminal's Ctrl-C; ``prepared`` replaces what the
    preparation returns after it (default: the real one). Returns (exit code, stderr)."""
    import asyncio.runners
    import signal
    import threading

    from conversations import chat

    real, seen = chat.prepare_chat, threading.Event()
    on_sigint, run = asyncio.runners.Runner._on_sigint, asyncio.runners.Runner.run
    runners = []

    def noted(self, *args, **kwargs):
        on_sigint(self, *args, **kwargs)  # asyncio.run cancels its task
        seen.set()

    def recorded(self, *args, **kwargs):
        runners.append(self)
        return run(self, *args, **kwargs)

    def interrupted(*args, **kwargs):
        # SIGINT raised in the main thread by its own event loop, as a terminal's Ctrl-C is
        # handled there (raise_signal here would hit this thread; pthread_kill to the main
        # thread, asleep in epoll_wait without a wakeup fd, was now and then not handled for
        # 10 s on the loaded machine: a flaky test, not the command).
        runners[-1].get_loop().call_soon_threadsafe(signal.raise_signal, signal.SIGINT)
        # Prepared only once asyncio.run has cancelled the chat.
        assert seen.wait(10), "SIGINT never reached asyncio.run"
        return (prepared or real)(*args, **kwargs)

    monkeypatch.setattr(asyncio.runners.Runner, "_on_sigint", noted)
    monkeypatch.setattr(asyncio.runners.Runner, "run", recorded)
    monkeypatch.setattr(chat, "prepare_chat", interrupted)
    err = io.StringIO()
    # asyncio.run cancels its task on SIGINT only while Python's default handler is installed
    # (an earlier test of the suite may have left another one): as in a terminal.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(SystemExit) as exited:
            call_command("chat", "--tenant", "acme", "--bot", "helper", Q, stderr=err)
    finally:
        signal.signal(signal.SIGINT, previous)
    return exited.value.code, err.getvalue()


def test_ctrl_c_while_the_chat_is_prepared_stores_the_question(kb, openai_stub, monkeypatch):
    # Ctrl-C before the answer streams (the first question of a process loads the embedding
    # model: seconds). "(stopped; ... saved as cancelled)" used to be said with nothing saved.
    code, err = _ctrl_c_while_prepared(monkeypatch)
    assert code == 130
    assert "saved as cancelled" in err, err
    conversation = Conversation.objects.get()
    assert [(m.role, m.finish_reason) for m in conversation.messages.order_by("created_at")] == [
        ("user", ""), ("assistant", "cancelled"),
    ]  # fmt: skip
    assert openai_stub.chat_requests() == []


def test_ctrl_c_says_so_when_the_question_could_not_be_stored(kb, openai_stub, monkeypatch):
    # The preparation failed after the Ctrl-C (here: the bot was deactivated meanwhile): the
    # command said "saved as cancelled" anyway; it now says the question was not stored, why.
    from chatbot_project.errors import NotFound

    def gone(*args, **kwargs):
        raise NotFound("No such bot, or it is not visible to this credential.")

    code, err = _ctrl_c_while_prepared(monkeypatch, gone)
    assert code == 130
    assert "saved as cancelled" not in err
    assert "the question was not stored: No such bot" in err, err
    assert not Conversation.objects.exists()
