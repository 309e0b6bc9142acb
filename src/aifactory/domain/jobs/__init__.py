"""Jobs: the normalized state machine and the declarative job spec."""
