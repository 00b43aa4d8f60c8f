"""Prometheus metrics: the families, the agent's process collector, and the Pushgateway push."""
