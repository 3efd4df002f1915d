"""The end-to-end tests use the in-process API and relay fixtures of the integration tests."""

from tests.integration.conftest import api, relay

__all__ = ["api", "relay"]
