"""The console's areas, one blueprint each, registered under /staff/ in this order. Adding an area is one line.

Each entry names a module that defines `bp` (a flask.Blueprint) and, if the area has a page in the top menu,
`NAV = (label, endpoint, admin_only)`. Endpoints become "staff.<blueprint name>.<view>".
"""
from __future__ import annotations

AREAS = [
    "bot.staff.auth_views",           # login, logout
    "bot.staff.conversations_views",  # list, transcript, review, tags
    "bot.staff.escalations_views",    # the escalation queue and one escalation
    "bot.staff.handoff_views",        # live chats: waiting visitors, take over, reply, hand back
    "bot.staff.alerts_views",         # the live alert stream of urgent escalations (no page of its own)
    "bot.staff.analytics_views",      # charts
    "bot.staff.labels_views",         # misunderstood messages, labels, NLU export
    "bot.staff.cards",                # answer cards: clinical review status, sentences and their sources
    "bot.staff.privacy_views",        # export, erasure, audit log (admin)
    "bot.staff.accounts_views",       # staff accounts (admin)
]
