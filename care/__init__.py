"""Care work around a conversation: safety flags and hand-offs to Care Managers."""
