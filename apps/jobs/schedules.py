"""Periodic jobs take their cron line from settings.JOB_SCHEDULES (env JOB_SCHEDULE_<NAME>).

An empty line turns a schedule off; the task stays and can still be enqueued by hand.
"""

from __future__ import annotations

from django.conf import settings
from procrastinate.contrib.django import app


def periodic(name: str):
    """Decorator for a task (put it above `@app.task`): run it on the cron line named `name`."""
    cron = settings.JOB_SCHEDULES.get(name, "")

    def decorate(task):
        if not cron:
            return task
        return app.periodic(cron=cron, periodic_id=name)(task)

    return decorate
