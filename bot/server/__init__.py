"""The Rasa server as the clinic runs it: Rasa's own `rasa run`, with the project's start-up patches applied.

Rasa is not forked or edited. Each fix or hardening Rasa needs lives in one small module here, registered in
`bot.server.patches.PATCHES`, applied once at start-up by `python -m bot.server run ...` (the launcher's Rasa
command), and covered by a test.
"""
