"""Creators: tiers by audience, growth stages, agencies (MCN)."""
