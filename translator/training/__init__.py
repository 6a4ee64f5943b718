"""The training engine shared by every plugin (no Qt)."""
