"""Thin eval runner: writes run logs; knows nothing of the database."""
