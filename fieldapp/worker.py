"""The huey consumer's entry point (Procfile: worker): the app, its database and every task module."""
from . import create_app
from . import audit_tasks  # noqa: F401  (registers the audit anchor task)
from . import tasks  # noqa: F401  (registers the tasks with huey)
from .queue import huey  # noqa: F401

app = create_app()  # binds the database proxy and the configuration the tasks use
tasks.bind_app(app)
