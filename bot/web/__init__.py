"""The web app beside the bot: the clinic's demo page with the chat widget, and the staff console."""
