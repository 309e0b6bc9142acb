"""How often the factory tries again what a scheduler could not do (a submission, an account's limits):
soon at first, then less and less often, so that an outage costs little and a recovery is noticed quickly."""

from __future__ import annotations

from datetime import timedelta

FIRST_RETRY = timedelta(seconds=1)  # the reconciler's next cycle
LONGEST_WAIT = timedelta(minutes=5)


def retry_delay(attempts: int) -> timedelta:
    """The wait after ``attempts`` failed tries: 1 s, 2 s, 4 s, … doubling up to 5 minutes."""
    doubled: timedelta = FIRST_RETRY * 2 ** min(max(attempts, 1) - 1, 20)
    return min(doubled, LONGEST_WAIT)
