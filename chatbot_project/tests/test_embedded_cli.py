"""`python -m chatbot_project.embedded` with a command that is not there, or none, says so on
stderr and starts nothing.

`run -- /nonexistent/cmd` (a typo in a Makefile line or a script) printed "nothing to run:
['/nonexistent/cmd']" on stdout and exited 2, as if no command had been given; the usage went
to stdout too."""

from __future__ import annotations

from chatbot_project import embedded


def test_a_command_that_is_not_there_is_named(capsys, monkeypatch):
    started = []
    monkeypatch.setattr(embedded, "_run", started.append)
    assert embedded.main(["run", "--", "/nonexistent/cmd", "-x"]) == 127
    out, err = capsys.readouterr()
    assert (out, err) == ("", "/nonexistent/cmd: command not found (nothing was started).\n")
    assert started == []


def test_no_command_or_a_bad_action_prints_the_usage_on_stderr(capsys, monkeypatch):
    monkeypatch.setattr(embedded, "_run", lambda cmd: 0)
    assert embedded.main(["run", "--"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("nothing to run: give the command after `run --`.\n")
    assert embedded.main(["bogus"]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", embedded.USAGE + "\n")
