"""Rasa custom actions: thin adapters between the tracker, knowledge/ and bot/triage."""

from bot.server.log_privacy import install_in_action_server

install_in_action_server()  # no patient's words in the action server's logs (bot/server/log_privacy.py)
