"""Connectors to short-video platforms, behind one interface."""
