"""Use cases. Each takes its collaborators (unit of work, clock, actor) and runs one transaction."""
