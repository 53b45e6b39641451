"""Campaigns: what brands publish, its task types, targeting, pacing and compliance."""
