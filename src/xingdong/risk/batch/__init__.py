"""Batch detectors, run as jobs over everything seen: lockstep groups, dense blocks and
rings of accounts. Each works on integer-coded NumPy arrays."""
