"""What a command runs against: a config file, or the embedded demo shop for the command's
lifetime, with the header line that names it."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from checkout_monitor import __version__
from checkout_monitor.config.loader import load_config
from checkout_monitor.config.locate import config_path
from checkout_monitor.config.model import LoadedConfig
from checkout_monitor.errors import UsageError
from checkout_monitor.run.monitors_loader import default_monitors_dir


@dataclass(frozen=True)
class DemoRequest:
    """``--demo`` and its options: how the embedded shop looks, pays and breaks."""

    theme: str = "classic"
    payment: str = "form"
    overlays: Sequence[str] = ()
    faults: Sequence[str] = field(default_factory=list)


@contextlib.contextmanager
def open_target(
    config: Path | None, demo: DemoRequest | None
) -> Iterator[tuple[LoadedConfig, str]]:
    """The config to run and a header line; with ``demo``, the demo shop runs meanwhile."""
    if demo is not None and config is not None:
        raise UsageError("use either --demo or --config, not both")
    if demo is None:
        path = config_path(config)
        loaded = load_config(path)
        yield (
            loaded,
            f"checkout-monitor {__version__} | config {path} | location {loaded.config.location}",
        )
        return
    # only --demo pays for the demo shop and Flask
    from checkout_monitor.config.demo import demo_config  # noqa: PLC0415
    from checkout_monitor.demo_shop import DemoShop  # noqa: PLC0415

    with (
        DemoShop(
            faults=list(demo.faults),
            theme=demo.theme,
            payment=demo.payment,
            overlays=list(demo.overlays),
        ) as shop,
        tempfile.TemporaryDirectory(prefix="checkout-monitor-demo-") as state_dir,
    ):
        faults = ", ".join(demo.faults) or "none"
        overlays = ", ".join(sorted(shop.overlays)) or "none"
        yield (
            demo_config(shop, demo.theme, Path(state_dir)),
            (
                f"checkout-monitor {__version__} | demo shop ({demo.theme}) at "
                f"{shop.shop_url}, payment sandbox at {shop.sandbox_url} | payment: "
                f"{shop.payment} | overlays: {overlays} | faults: {faults} | "
                f"admin token {shop.admin_token}"
            ),
        )


def monitors_dir(given: Path | None, loaded: LoadedConfig) -> Path:
    """``--monitors``, else the config's ``monitors_dir``, else ./monitors or the bundled one."""
    return given or loaded.monitors_dir() or default_monitors_dir()
