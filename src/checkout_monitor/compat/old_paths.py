"""Old module paths, kept working for one release with a DeprecationWarning.

Until 0.2 every module sat at the package root, and journeys copied from that release import
``checkout_monitor.journey``, ``checkout_monitor.storefront`` and friends. A finder on
``sys.meta_path`` answers those names with the module's new home, warning once per name, so a
user's journey keeps running while they switch to ``from checkout_monitor import ...``.
Remove in 0.3.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Sequence
from importlib import import_module
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

# old name under checkout_monitor -> new name under checkout_monitor
MOVED = {
    "config_loader": "config.loader",
    "config_model": "config.model",
    "config_types": "config.fields",
    "storefront_profile": "config.storefront_profile",
    "alert_config": "config.alerting",
    "web_config": "config.web_config",
    "demo_run": "config.demo",
    "test_cards": "config.sandbox_cards",
    "journey": "run.journey",
    "journey_plan": "run.plan",
    "monitors_loader": "run.monitors_loader",
    "runner": "run.runner",
    "attempts": "run.attempts",
    "smoke": "run.smoke",
    "agent": "agent.scheduler",
    "status_server": "agent.status_server",
    "basic_auth": "agent.basic_auth",
    "browser": "browser.launch",
    "browser_lifecycle": "browser.keeper",
    "host_guard": "browser.host_fence",
    "host_allowlist": "browser.allowlist",
    "navigation": "browser.navigation",
    "process_stats": "browser.process_stats",
    "frames": "browser.frames",
    "storefront": "shop.storefront",
    "element_actions": "shop.element_actions",
    "shop_api": "shop.order_api",
    "discount_rules": "shop.discount_rules",
    "money": "shop.money",
    "step_budget": "shop.step_budget",
    "image_baseline": "images.baseline",
    "image_checks": "images.checks",
    "image_download": "images.download",
    "page_images": "images.page_images",
    "evidence": "evidence.recorder",
    "redaction": "evidence.redaction",
    "evidence_redaction": "evidence.redaction",
    "reports.scrub": "evidence.redaction",
    "artifacts": "evidence.artifacts",
    "last_passed": "evidence.last_passed",
    "atomic_files": "reports.atomic_files",
    "metrics": "metrics.families",
    "pushgateway": "metrics.pushgateway",
    "triage": "reports.triage",
    "alerting.alerting": "alerting.service",
    "durations": "text.durations",
    "quoting": "text.quoting",
    "exit_codes": "cli.exit_codes",
}


def _warn(old: str, new: str, stacklevel: int) -> None:
    warnings.warn(
        f"{old} moved to {new}; a journey imports what it needs from 'checkout_monitor' "
        "(the old path goes in checkout-monitor 0.3)",
        DeprecationWarning,
        stacklevel=stacklevel + 1,
    )


# 0.1 modules whose names now live in more than one module: the others, looked in after
# the one MOVED names (0.1's browser.py is browser/launch.py plus browser/chromium.py)
ALSO_IN = {"browser": ("browser.chromium",)}


class _OldPathLoader(Loader):
    """Hands back the module at its new path, so both names are one module object."""

    def __init__(self, new_name: str) -> None:
        self.new_name = new_name

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        _warn(spec.name, self.new_name, stacklevel=2)
        return import_module(self.new_name)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module was executed under its new name."""


class _OldPathFinder(MetaPathFinder):
    def __init__(self, package: str) -> None:
        self.package = package

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        prefix = self.package + "."
        old = fullname.removeprefix(prefix) if fullname.startswith(prefix) else None
        if old is None or old not in MOVED:
            return None
        return ModuleSpec(fullname, _OldPathLoader(f"{prefix}{MOVED[old]}"))


class _Package(ModuleType):
    """The package module, whose public names an old submodule import must not replace.

    Importing ``checkout_monitor.journey`` makes Python set the package attribute
    ``journey`` to that module, which would shadow the ``@journey`` decorator.
    """

    public: frozenset[str] = frozenset()

    def __setattr__(self, name: str, value: object) -> None:
        if name in self.public and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


def names_of_old_module(package: str) -> Callable[[str], object]:
    """A module ``__getattr__`` for a subpackage that took an old module's name.

    ``checkout_monitor.metrics`` was a module and is now a package: ``from
    checkout_monitor.metrics import Metrics`` finds the package, not the finder, so the
    package answers the old module's names itself, with the same warning.
    """
    old = package.removeprefix("checkout_monitor.")
    homes = [f"checkout_monitor.{home}" for home in (MOVED[old], *ALSO_IN.get(old, ()))]

    def __getattr__(name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        for new in homes:
            module = import_module(new)
            if hasattr(module, name):
                _warn(f"{package}.{name}", f"{new}.{name}", stacklevel=2)
                value = getattr(module, name)
                setattr(sys.modules[package], name, value)  # once: `from` asks twice
                return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


def install_old_paths(package: str, public: frozenset[str]) -> None:
    """Answer the old module paths under ``package``; keep its ``public`` names intact."""
    if not any(isinstance(f, _OldPathFinder) for f in sys.meta_path):
        sys.meta_path.append(_OldPathFinder(package))
    module = sys.modules[package]
    module.__class__ = _Package
    _Package.public = public
