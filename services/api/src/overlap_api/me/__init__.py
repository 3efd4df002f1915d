"""The signed-in user's events across devices."""
