"""Xingdong (星动): an open-source engagement task platform."""
