"""Red-flag triage: the flag data file, detection, advice and escalation records (no Rasa here)."""
