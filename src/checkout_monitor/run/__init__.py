"""Running journeys: the plan, the journeys in monitors/, the runner, attempts, run-smoke."""
