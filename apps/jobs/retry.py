"""Retry strategies shared by every task, so backoff is decided in one place.

A task raises `RetryLater(seconds)` when the other side told it when to come back (Telegram's
429 `retry_after`, an HTTP `Retry-After`); any other exception is retried with exponential
backoff until `max_attempts`, then the job stays `failed` in the admin («Задачи»).
"""

from __future__ import annotations

from procrastinate import BaseRetryStrategy, RetryDecision


class RetryLater(Exception):  # noqa: N818 — it is an instruction, not an error
    """Try this job again in `seconds` (at least one second), whatever the backoff says."""

    def __init__(self, seconds: float, reason: str = ""):
        super().__init__(reason or f"retry in {seconds} s")
        self.seconds = max(1, int(seconds + 0.999))


class PermanentError(Exception):
    """Retrying cannot help (bad token, chat blocked the bot): fail the job at once."""


class Backoff(BaseRetryStrategy):
    """Exponential backoff (base * 2**attempt, capped), honouring RetryLater, never retrying
    PermanentError. attempts counts the runs already made."""

    def __init__(self, *, max_attempts: int = 8, base: float = 2.0, cap: float = 600.0):
        self.max_attempts = max_attempts
        self.base = base
        self.cap = cap

    def get_retry_decision(self, *, exception: BaseException, job) -> RetryDecision | None:
        if isinstance(exception, PermanentError) or job.attempts + 1 >= self.max_attempts:
            return None
        return RetryDecision(retry_in={"seconds": self.seconds_after(exception, job.attempts)})

    def seconds_after(self, exception: BaseException, attempts: int) -> int:
        """How long to wait before the next run after `attempts` runs ended with `exception`."""
        if isinstance(exception, RetryLater):
            return exception.seconds
        return int(min(self.cap, self.base * 2**attempts))


#: The default for tasks that talk to the outside world: 8 runs over ~4 minutes.
DEFAULT = Backoff()
