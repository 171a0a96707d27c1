"""Turning what the engine says into text for people and data for programs."""
