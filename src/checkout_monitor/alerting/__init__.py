"""Alerting: rules over recent journey runs, alert states, and durable delivery to channels.

Reads ``JourneyResult``s only; never imports Playwright.
"""
