"""Cron schedules and time zones, checked the way a CronJob will read them.

The API server takes a schedule in standard five-field cron syntax (or one of the
`@daily`-style macros) and an IANA time zone in its own field. Both are checked here,
with croniter and the IANA database, so a typo is a config error and not a CronJob
that never runs. The longest gap between two runs tells alerts and the restore drill
how old "the latest" may be before something is wrong.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import AfterValidator

# What Kubernetes' parser accepts besides five fields (@every and @reboot it does not).
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# Enough runs to see every gap of a schedule that repeats within a year, without
# stepping through half a million runs of an every-minute one.
SAMPLED_RUNS = 1500
SAMPLED_SPAN = timedelta(days=400)


def _check_schedule(text: str) -> str:
    expression = text.strip()
    if expression.upper().startswith(("TZ=", "CRON_TZ=")):
        raise ValueError("put the time zone in `timeZone`, not in the schedule (the API server refuses TZ= here)")
    if expression.startswith("@"):
        if expression not in MACROS:
            raise ValueError(f"{expression!r} is not a schedule macro Kubernetes knows ({', '.join(MACROS)})")
        return expression
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(
            f"{text!r} has {len(fields)} fields; a CronJob schedule has five (minute hour day-of-month month day-of-week)"
        )
    if not croniter.is_valid(expression):
        raise ValueError(f"{text!r} is not a valid cron schedule")
    return expression


def _check_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. Etc/UTC, Europe/Berlin, America/New_York)") from None
    return name


CronSchedule = Annotated[str, AfterValidator(_check_schedule)]
"""A CronJob schedule: five cron fields, or a macro such as @daily."""
TimeZone = Annotated[str, AfterValidator(_check_time_zone)]
"""An IANA time zone name, as a CronJob's `timeZone` takes it."""


@lru_cache(maxsize=64)
def longest_gap(schedule: str, time_zone: str = "Etc/UTC") -> timedelta:
    """The longest time between two runs of `schedule` in `time_zone`, over the next year.

    Measured in elapsed time, not on the wall clock, so the nights clocks change
    count as the hour longer or shorter they are.
    """
    expression = MACROS.get(schedule, schedule)
    start = datetime(2027, 1, 1, tzinfo=ZoneInfo(time_zone))
    runs = croniter(expression, start)
    previous = runs.get_next(datetime)
    gap = timedelta(0)
    for _ in range(SAMPLED_RUNS):
        current = runs.get_next(datetime)
        gap = max(gap, current.astimezone(UTC) - previous.astimezone(UTC))
        previous = current
        if current - start > SAMPLED_SPAN:
            break
    return gap
