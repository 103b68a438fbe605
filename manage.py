#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot_project.settings")
    from django.core.management import execute_from_command_line

    from chatbot_project.env import load_settings_or_exit

    if not any(arg.startswith("--settings") for arg in sys.argv[1:]):
        load_settings_or_exit()  # a bad environment variable: its sentence alone, exit 1
    try:
        execute_from_command_line(sys.argv)
    except BrokenPipeError:
        # The reader went away (`manage.py chat ... | head -3`): stop quietly, as Unix tools
        # do, instead of a traceback. Python's own flush of stdout at exit would raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)  # 128 + SIGPIPE, what a shell reports for a tool killed by it
    except Exception as exc:  # Django's own commands: the database or Redis down is a sentence
        from chatbot_project.commands import schema_sentence, unreachable_sentence

        sentence = unreachable_sentence(exc) or schema_sentence(exc)
        if sentence is None or "--traceback" in sys.argv:
            raise
        sys.stderr.write(f"CommandError: {sentence}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
