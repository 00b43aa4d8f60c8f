"""checkout-monitor: synthetic checkout monitoring for small online shops."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("checkout-monitor")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
