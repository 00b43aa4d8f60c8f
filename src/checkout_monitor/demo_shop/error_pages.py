"""Bare error pages, the kind a failing backend produces instead of the shop's own templates."""

from __future__ import annotations

DISCOUNT_SERVICE_DOWN = (
    "<!doctype html><html><head><title>500 Internal Server Error</title>"
    '<link rel="icon" href="data:,"></head><body>'
    "<h1>Internal Server Error - discount service unavailable</h1></body></html>"
)
