"""Teamflow's bot: the entry points that wire the core to the chat platforms."""
