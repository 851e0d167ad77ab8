"""WhatsApp Cloud API: signed webhooks in, Graph API calls out, the 24-hour window kept."""
