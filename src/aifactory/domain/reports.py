"""The vocabulary of the factory's reports (pure; the queries live in ``store.report_queries``)."""

from __future__ import annotations

from enum import StrEnum


class Dimension(StrEnum):
    """What delivered GPU-hours can be grouped by."""

    ORG_KIND = "org_kind"  # the kind of the project's lead organization
    SECTOR = "sector"  # each of the lead organization's sectors (an entry counts under each)
    COUNTRY = "country"  # the lead organization's country
    ACCESS_MODE = "access_mode"  # of the call the project's proposal answered
    RESOURCE = "resource"
    MONTH = "month"  # calendar month (YYYY-MM, UTC); a run spanning months counts in each by its seconds
    PROJECT = "project"
