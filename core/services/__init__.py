"""Use cases and the command path: typed commands, the bus, their handlers, each over a unit of work."""
