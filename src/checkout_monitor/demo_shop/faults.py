"""Named faults the demo shop and its payment sandbox can suffer, switched at run time.

A fault only changes what pages and HTTP responses look like, exactly as a real incident
would; nothing here is exposed as a flag a monitor could read.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping

FAULTS: dict[str, str] = {
    "broken-image": "HTTP 404 for the second image of the first product",
    "corrupt-image": "the second image of the first product is served truncated (200 OK)",
    "placeholder-image": "the second image of the first product is served as a 1x1 pixel",
    "slow-product-page": "product pages answer only after delay_seconds (default 20)",
    "add-to-cart-broken": "the add-to-cart button's script throws, nothing is added",
    "discount-engine-down": "applying any discount code answers HTTP 500",
    "payment-declines": "the payment sandbox declines every card (card_declined)",
    "payment-provider-down": "the payment sandbox answers 503 on every route",
    "checkout-token-rejected": "every checkout token check fails (session expired)",
    "out-of-stock": "every product is sold out and cannot be added to the cart",
    "foreign-host": (
        "every page loads a script and a stylesheet from a host the config does not name, "
        "and checkout pages redirect the browser there (HTTP 302)"
    ),
    # Hostile pages: what a monitor must survive with its memory and time bounded.
    "huge-image": "the second image of the first product is a size_mib (default 50) download",
    "decompression-bomb": (
        "the second image of the second product is a 382 KiB JPEG of 10000x10000 pixels"
    ),
    "redirect-loop": "product pages redirect to each other forever (HTTP 302)",
    "endless-page": "product pages start to arrive, then trickle bytes forever, never finishing",
    # Hosted payments and overlays: what a provider's or a theme's script does to checkout.
    "hosted-fields-script-down": (
        "the payment sandbox answers HTTP 503 for its hosted fields script, so the card "
        "fields never appear (payment mode hosted-fields)"
    ),
    "three-ds-stuck": (
        "clicking Complete authentication in a 3-D Secure challenge shows "
        "'Authenticating...' forever"
    ),
    "payment-no-return": (
        "the hosted payment page takes the payment, says it is returning you to the shop, "
        "and never does (payment mode redirect)"
    ),
    "overlay-stuck": (
        "the cookie banner shows on every page (even with no overlays) and neither it nor "
        "the newsletter pop-up can be dismissed"
    ),
}

# Numeric parameters each fault understands, with their defaults; one table, no second list.
FAULT_PARAMS: dict[str, dict[str, float]] = {
    "slow-product-page": {"delay_seconds": 20.0},
    "foreign-host": {"port": 0.0},  # 0: the shop's own port, under the name localhost
    # content_length 0: sent chunked, its size unknown until the end (a streaming origin)
    "huge-image": {"size_mib": 50.0, "content_length": 1.0},
    "endless-page": {"interval_seconds": 0.5},
}


def check_fault_name(name: str) -> None:
    """Raise ValueError naming every valid fault when `name` is not one of them."""
    if name not in FAULTS:
        valid = ", ".join(FAULTS)
        raise ValueError(f"unknown fault {name!r}; valid faults: {valid}")


def resolve_params(name: str, params: Mapping[str, float]) -> dict[str, float]:
    """Merge `params` over the fault's defaults, refusing unknown or non-numeric keys."""
    check_fault_name(name)
    defaults = FAULT_PARAMS.get(name, {})
    merged = dict(defaults)
    for key, value in params.items():
        if key not in defaults:
            valid = ", ".join(defaults) or "none"
            raise ValueError(f"fault {name!r} has no parameter {key!r}; valid parameters: {valid}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"fault {name!r} parameter {key!r} must be a number, got {value!r}")
        if value < 0:
            raise ValueError(f"fault {name!r} parameter {key!r} must not be negative")
        merged[key] = float(value)
    return merged


class FaultSwitches:
    """The set of active faults, shared by the shop and the sandbox across request threads."""

    def __init__(self, param_overrides: Mapping[str, Mapping[str, float]] | None = None) -> None:
        # Overrides are remembered so a fault enabled later without params still gets them.
        self._overrides: dict[str, dict[str, float]] = {
            name: resolve_params(name, params) for name, params in (param_overrides or {}).items()
        }
        self._active: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    def enable(self, name: str, **params: float) -> None:
        """Switch a fault on; `params` override its defaults (e.g. delay_seconds=3)."""
        resolved = resolve_params(name, params)
        merged = dict(self._overrides.get(name, resolved))
        merged.update({key: resolved[key] for key in params})
        with self._lock:
            self._active[name] = merged

    def enable_all(self, names: Iterable[str]) -> None:
        """Switch on several faults with their default (or overridden) parameters."""
        for name in names:
            self.enable(name)

    def disable(self, name: str) -> None:
        """Switch a fault off; switching off an inactive fault is not an error."""
        check_fault_name(name)
        with self._lock:
            self._active.pop(name, None)

    def is_on(self, name: str) -> bool:
        """Whether the named fault is currently active."""
        check_fault_name(name)
        with self._lock:
            return name in self._active

    def param(self, name: str, key: str) -> float:
        """The effective value of one parameter of a fault (active or not)."""
        with self._lock:
            active = self._active.get(name)
            if active is not None and key in active:
                return active[key]
        return (self._overrides.get(name) or resolve_params(name, {}))[key]

    def active(self) -> dict[str, dict[str, float]]:
        """A copy of the active faults and their parameters."""
        with self._lock:
            return {name: dict(params) for name, params in self._active.items()}

    def clear(self) -> None:
        """Switch every fault off."""
        with self._lock:
            self._active.clear()
