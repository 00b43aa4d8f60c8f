"""Prometheus metrics: the families, the agent's process collector, and the Pushgateway push."""

from checkout_monitor.compat.old_paths import names_of_old_module

# Until 0.3: this package has the name of a module of 0.1; its names still answer here.
__getattr__ = names_of_old_module(__name__)
