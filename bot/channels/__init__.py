"""Channel connectors Rasa lacks or gets wrong: website (socket.io), Telegram, WhatsApp (Twilio, Meta)."""
