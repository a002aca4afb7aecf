"""The huey consumer's entry point (Procfile: worker): the app, its database and every task module."""
from . import audit_tasks, backup_tasks, create_app  # noqa: F401  (they register the audit anchor and backup tasks)
from .accounts import tasks as accounts_tasks  # noqa: F401  (each feature's tasks.py registers its tasks)
from .alerts import tasks as alerts_tasks  # noqa: F401
from .checkin import tasks as checkin_tasks  # noqa: F401
from .rounds import tasks as rounds_tasks  # noqa: F401
from .competence import tasks as competence_tasks  # noqa: F401
from .stats import tasks as stats_tasks  # noqa: F401
from .meetings import tasks as meetings_tasks  # noqa: F401
from .duties import tasks as duties_tasks  # noqa: F401
from .queue import context, huey  # noqa: F401

app = create_app()  # binds the database proxy and the configuration the tasks use
context.bind(app)
