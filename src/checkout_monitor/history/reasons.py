"""Why a run could not be recorded in the history: the metric's bounded label values, with
no imports, so the metric families can list them without loading the history's writer."""

from __future__ import annotations

WRITE_ERROR_REASONS = (
    "corrupt",
    "locked",
    "disk_full",
    "unwritable",
    "too_new",
    "queue_full",  # serve's writer fell that far behind (a database locked for long)
    "other",
)
