"""CORS_ORIGINS: empty by default, so no CORS headers at all (browsers keep other origins
out); a listed origin gets them, an unlisted one still does not."""

import httpx
from overlap_api.app import create_app

from tests.integration.conftest import Api

LISTED = "https://frontend.example"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "x-admin-key",
}


async def test_no_cors_by_default(api: Api) -> None:
    assert api.resources.settings.cors_origins == []
    token = (await api.create_event())["token"]
    for origin in (LISTED, "https://evil.example"):
        read = await api.client.get(f"/api/events/{token}", headers={"Origin": origin})
        assert read.status_code == 200 and "access-control-allow-origin" not in read.headers
        pre = await api.client.options(
            f"/api/events/{token}", headers={"Origin": origin, **PREFLIGHT}
        )
        assert pre.status_code == 405 and "access-control-allow-origin" not in pre.headers


async def test_a_listed_origin_is_allowed_and_no_other(api: Api) -> None:
    settings = api.resources.settings.model_copy(update={"cors_origins": [LISTED]})
    app = create_app(settings)
    api.share_with(app, settings)
    token = (await api.create_event())["token"]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://overlap.test") as client:
        pre = await client.options(f"/api/events/{token}", headers={"Origin": LISTED, **PREFLIGHT})
        assert pre.status_code == 200, pre.text
        assert pre.headers["access-control-allow-origin"] == LISTED
        assert "x-admin-key" in pre.headers["access-control-allow-headers"].lower()
        read = await client.get(f"/api/events/{token}", headers={"Origin": LISTED})
        assert read.headers["access-control-allow-origin"] == LISTED
        assert "etag" in read.headers["access-control-expose-headers"].lower()
        evil = {"Origin": "https://evil.example"}
        pre = await client.options(f"/api/events/{token}", headers={**evil, **PREFLIGHT})
        assert pre.status_code == 400 and "access-control-allow-origin" not in pre.headers
        read = await client.get(f"/api/events/{token}", headers=evil)
        assert "access-control-allow-origin" not in read.headers
