"""Erasing a person's data held by apps that the erasing code may not import (house rule 14).

The audit app anonymises a client; the integrations app (an independent top layer) holds the raw
inbox payloads of that person's messages. Integrations registers an eraser here in its ready();
the audit app calls every registered eraser inside its transaction.

An eraser is `func(*, client_id: int, lead_ids: list[int]) -> dict[str, int]` (counts by
category, merged into the destruction record).
"""

from collections.abc import Callable

SubjectEraser = Callable[..., dict[str, int]]
_erasers: dict[str, SubjectEraser] = {}


def register_subject_eraser(name: str, func: SubjectEraser) -> None:
    _erasers[name] = func


def run_subject_erasers(*, client_id: int, lead_ids: list[int]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for func in _erasers.values():
        for key, value in func(client_id=client_id, lead_ids=lead_ids).items():
            counts[key] = counts.get(key, 0) + value
    return counts


# --- Retention: purgers of apps the audit app may not import -------------------------------------------

RetentionPurger = Callable[..., int]  # func(*, before, dry_run: bool) -> count
_purgers: dict[str, tuple[str, RetentionPurger]] = {}


def register_retention_purger(name: str, setting: str, func: RetentionPurger) -> None:
    """`setting`: the key of settings.PERSONAL_DATA_RETENTION_DAYS that sets this category's term."""
    _purgers[name] = (setting, func)


def retention_purgers() -> dict[str, tuple[str, RetentionPurger]]:
    return dict(_purgers)
