"""`checkout-monitor serve`: the scheduler and the status/metrics listener with its basic auth."""
