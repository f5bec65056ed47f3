"""Staff take over a live conversation (agent-bot handoff).

The bot owns a conversation until a person from the clinic takes it. While a person has it, Rasa keeps the
conversation paused (Rasa's own ConversationPaused event): user messages are still logged, the bot predicts
nothing, except that a red flag still gets the urgent advice (bot/server/handoff_red_flags.py). Staff replies
are bot events with the staff member's id in their metadata, sent through the conversation's own channel by
the Rasa server (bot/handoff/channel.py), so the conversation log stays the one record and several Rasa
servers sharing a tracker store and lock store work the same. The handoff state (waiting / staff / bot, who)
lives in the clinic database (bot/handoff/store.py) so the console can show the queue.
"""
