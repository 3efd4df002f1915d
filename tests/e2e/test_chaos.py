"""The seeded short fault suite (``make chaos`` runs every fault): a stack of its own under
load, four faults drawn by the seed (one Kafka broker of three killed, one API process of
two killed, one worker killed, one pause), every invariant checked after each."""

import os
import subprocess
import sys

import pytest

from tests.servers import ROOT


@pytest.mark.timeout(1200)  # a stack of its own and four faults: minutes, not seconds
def test_seeded_faults_keep_every_invariant(tmp_path: object) -> None:
    seed = os.environ.get("CHAOS_SEED", "1")
    args = [sys.executable, "-m", "chaos", "--quick", "--seed", seed, "--out", str(tmp_path)]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=1000)
    finally:
        if proc.poll() is None:
            proc.terminate()  # lets it stop its stack
            proc.communicate(timeout=120)
    report = out.decode(errors="replace")
    print(report)
    assert proc.returncode == 0, report[-6000:]
    assert "4/4 faults: every invariant held." in report, report[-3000:]
