"""Demo data and the demo runner."""
