#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot_project.settings")
    from django.core.management import execute_from_command_line

    from chatbot_project.env import load_settings_or_exit

    if not any(arg.startswith("--settings") for arg in sys.argv[1:]):
        load_settings_or_exit()  # a bad environment variable: its sentence alone, exit 1
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
