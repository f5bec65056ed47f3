"""The clinic bot's application package: spaCy pipeline, triage, clinic profile, channels, staff console, CLI."""
