"""Insights: what a brand learns of its campaigns, and how its own systems are told
(events, webhooks)."""
