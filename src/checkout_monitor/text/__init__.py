"""How times and shop text are written for people: durations and one-line quotes."""
