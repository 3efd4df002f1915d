"""Pure-Python reference implementations (the oracles of the array engine's property tests)."""
