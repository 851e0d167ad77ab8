"""The web chat: a small accessible page served by the gateway, a JSON API, server-sent events."""
