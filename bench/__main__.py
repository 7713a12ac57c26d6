"""Run every benchmark: `python -m bench` (or `make bench`)."""
from bench import inbound

if __name__ == "__main__":
    inbound.main()
