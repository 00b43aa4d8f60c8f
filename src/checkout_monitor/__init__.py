"""checkout-monitor: synthetic checkout monitoring for small online shops.

This module is the public API: everything a journey file in ``monitors/`` needs is imported
from here, so a journey never breaks when the engine's modules move::

    from checkout_monitor import JourneyRun, journey

Names are loaded on first use (PEP 562), so ``run-smoke --help`` does not pay for Playwright.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from checkout_monitor.compat.lazy_names import lazy_getattr
from checkout_monitor.compat.old_paths import install_old_paths

# The one place the version is written: pyproject.toml reads it from here (hatch), and
# `--version` needs no importlib.metadata (40 ms at every start).
__version__ = "0.1.0"

if TYPE_CHECKING:
    from checkout_monitor.errors import CheckoutMonitorError, ConfigError
    from checkout_monitor.failure_kinds import FailureKind
    from checkout_monitor.results import JourneyResult, JourneyStatus, StepResult, StepStatus
    from checkout_monitor.run.journey import JourneyRun, StepHandle, journey
    from checkout_monitor.shop.discount_rules import (
        DiscountOutcome,
        judge_refused_code,
        judge_valid_code,
    )
    from checkout_monitor.shop.money import format_money, parse_money, to_minor
    from checkout_monitor.shop.storefront import Challenge, Storefront
    from checkout_monitor.step_failures import CheckFailed

# public name -> the module that defines it
_HOMES = {
    "journey": "checkout_monitor.run.journey",
    "JourneyRun": "checkout_monitor.run.journey",
    "StepHandle": "checkout_monitor.run.journey",
    "Storefront": "checkout_monitor.shop.storefront",
    "Challenge": "checkout_monitor.shop.storefront",
    "CheckFailed": "checkout_monitor.step_failures",
    "CheckoutMonitorError": "checkout_monitor.errors",
    "ConfigError": "checkout_monitor.errors",
    "FailureKind": "checkout_monitor.failure_kinds",
    "JourneyResult": "checkout_monitor.results",
    "JourneyStatus": "checkout_monitor.results",
    "StepResult": "checkout_monitor.results",
    "StepStatus": "checkout_monitor.results",
    "DiscountOutcome": "checkout_monitor.shop.discount_rules",
    "judge_valid_code": "checkout_monitor.shop.discount_rules",
    "judge_refused_code": "checkout_monitor.shop.discount_rules",
    "to_minor": "checkout_monitor.shop.money",
    "parse_money": "checkout_monitor.shop.money",
    "format_money": "checkout_monitor.shop.money",
}

__all__ = [
    "Challenge",
    "CheckFailed",
    "CheckoutMonitorError",
    "ConfigError",
    "DiscountOutcome",
    "FailureKind",
    "JourneyResult",
    "JourneyRun",
    "JourneyStatus",
    "StepHandle",
    "StepResult",
    "StepStatus",
    "Storefront",
    "__version__",
    "format_money",
    "journey",
    "judge_refused_code",
    "judge_valid_code",
    "parse_money",
    "to_minor",
]


__getattr__ = lazy_getattr(__name__, _HOMES, globals())


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


install_old_paths(__name__, frozenset(_HOMES))
