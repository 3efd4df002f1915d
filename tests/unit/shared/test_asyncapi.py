"""`make asyncapi` keeps working and documents every domain event type."""

import importlib.util
import json
from pathlib import Path

from overlap_shared.events import DOMAIN_EVENT_TYPES

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "asyncapi.py"


def test_documents_are_generated_with_the_whole_catalog(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("asyncapi_script", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main.__globals__["sys"].argv = ["asyncapi", str(tmp_path)]
    module.main()
    api = json.loads((tmp_path / "api.json").read_text())
    assert set(DOMAIN_EVENT_TYPES) <= set(api["components"]["schemas"])
    assert api["servers"]["development"]["protocol"] == "kafka"
    for worker in ("availability", "cache-invalidator", "notifier"):
        doc = json.loads((tmp_path / f"{worker}.json").read_text())
        assert doc["channels"], worker
