"""The domain: the tables and the rules that need nothing else (errors, time, reminder policy, work days)."""
