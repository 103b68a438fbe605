#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot_project.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    if not any(arg.startswith("--settings") for arg in sys.argv[1:]):
        try:
            settings.INSTALLED_APPS  # noqa: B018 (loads the settings, once)
        except ImproperlyConfigured as exc:
            # A bad environment variable: its sentence alone. Django would import the settings
            # again, after the first import had set DATABASE_URL for the embedded server, and
            # report a missing SECRET_KEY instead of the variable that is wrong.
            sys.exit(f"ImproperlyConfigured: {exc}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
