"""Realtime: the Pusher client's settings and channel authorization."""
