"""Demo data for the console: the team of a small dental aligner maker (org.yaml)."""
