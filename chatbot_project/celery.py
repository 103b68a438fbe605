import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot_project.settings")

app = Celery("chatbot_project")


@app.on_configure.connect
def _load_settings_or_exit(**_: object) -> None:
    """Before Celery reads its configuration from Django's settings (lazily, on the first use of
    ``app.conf``): in the worker that is while its command line is parsed, and a bad environment
    variable showed a traceback through click and Celery. It exits 1 with the variable's
    sentence instead ("ImproperlyConfigured: <sentence>", as manage.py and serve). In a Django
    process (server, manage.py) the settings are loaded by then, so this does nothing. (Celery's
    signals log a receiver's Exception and go on; SystemExit is not one, so it ends the process.)
    """
    from chatbot_project.env import load_settings_or_exit

    load_settings_or_exit()


app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
