"""Channel adapters: Telegram, WhatsApp and the web chat, behind one small interface."""
