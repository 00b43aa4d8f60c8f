"""Exit codes every command uses, so scripts and CI can rely on them."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    JOURNEY_FAILED = 1
    USAGE_ERROR = 2  # bad arguments, bad config, no browser, or an internal error
