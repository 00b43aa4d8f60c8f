"""The one sentence every report uses for the requests the host allowlist blocked."""

from __future__ import annotations

from checkout_monitor.results import JourneyResult


def blocked_note(result: JourneyResult) -> str:
    """What was blocked and where to allow it, for a person; '' when nothing was."""
    if not result.blocked_requests:
        return ""
    hosts = ", ".join(
        f"{blocked.host} ({blocked.count}, e.g. {blocked.example_url})"
        for blocked in result.blocked_requests
    )
    count = result.blocked_count
    return (
        f"Blocked {count} request{'' if count == 1 else 's'} to hosts not in "
        f"storefronts.{result.storefront}.allowed_hosts: {hosts}. Add a host there if it is "
        "the shop's own; if nobody knows it, look at the shop."
    )
