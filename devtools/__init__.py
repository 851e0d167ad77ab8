"""Cross-cutting pieces shared by the gateway, the action server and the catalogue."""
