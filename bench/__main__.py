"""python -m bench [--smoke] [--api URL] [--out DIR] [--runs N] [--no-start]"""

import argparse
import dataclasses
import os
from pathlib import Path

from bench.config import FULL, SMOKE
from bench.run import run


def main() -> None:
    port = os.environ.get("API_PORT", "8000")
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--smoke", action="store_true", help="seconds, tiny rates (the test's run)")
    p.add_argument("--api", default=f"http://127.0.0.1:{port}", help="the API under test")
    p.add_argument("--out", type=Path, default=Path("results"))
    p.add_argument("--runs", type=int, help="runs per figure (default 3; smoke 1)")
    p.add_argument("--no-start", action="store_true", help="fail rather than start the stack")
    a = p.parse_args()
    cfg = SMOKE if a.smoke else FULL
    if a.runs:
        cfg = dataclasses.replace(cfg, runs=a.runs)
    path = run(cfg, a.api.rstrip("/"), a.out, start_stack=not a.no_start)
    print(path.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
