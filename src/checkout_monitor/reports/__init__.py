"""Reporters: turn ``JourneyResult``s into what people and tools read. No Playwright here."""
