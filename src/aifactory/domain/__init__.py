"""Plain-Python core: entities, value objects, state machines and rules. No I/O here."""
