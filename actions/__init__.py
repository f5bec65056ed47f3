"""Rasa custom actions: thin adapters between the tracker, knowledge/ and bot/triage."""
