"""Settings fail fast on bad or placeholder configuration."""

import pytest
from overlap_api.settings import Settings as ApiSettings
from overlap_shared.db import parse_database_url
from overlap_shared.settings import PusherSettings


def test_pool_parameters_come_from_the_url_and_are_stripped() -> None:
    cfg = parse_database_url("postgresql://u:p@h:5432/db?connection_limit=7&pool_timeout=2500")
    assert (cfg.pool_size, cfg.pool_timeout_s) == (7, 2.5)
    assert "connection_limit" not in str(cfg.url) and cfg.url.drivername == "postgresql+asyncpg"
    default = parse_database_url("postgresql+asyncpg://u:p@h/db")
    assert (default.pool_size, default.pool_timeout_s) == (20, 10.0)


@pytest.mark.parametrize("query", ["connection_limit=0", "pool_timeout=abc", "connection_limit=-2"])
def test_bad_pool_parameters_are_refused(query: str) -> None:
    with pytest.raises(ValueError, match="DATABASE_URL"):
        parse_database_url(f"postgresql://u:p@h/db?{query}")


def test_production_refuses_placeholder_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="placeholder"):
        ApiSettings(environment="production")
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(ValueError, match="PUSHER_SECRET"):
        PusherSettings()
    ok = PusherSettings(secret="a-real-secret-of-enough-length")
    assert ok.secret.startswith("a-real")


def test_pusher_app_id_must_be_numeric() -> None:
    with pytest.raises(ValueError, match="numeric"):
        PusherSettings(app_id="abc")
