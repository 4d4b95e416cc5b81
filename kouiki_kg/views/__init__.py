"""One module per user-facing surface."""
