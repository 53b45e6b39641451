"""``xingdong bench feed`` runs end to end on a small generated platform and reports
every figure (no speed is asserted: figures are for the benchmark's table)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

EXPECTED = {
    "baseline_rps", "feed_peak_rps", "ratio", "open_loop_rps", "p50_ms", "p99_ms", "sent",
    "errors", "campaigns", "workers", "baseline_cpu_ms", "feed_cpu_ms",
}  # fmt: skip


def test_the_feed_benchmark_prints_one_json_object(database_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "xingdong", "bench", "feed", "--seconds", "0.5",
         "--campaigns", "40", "--workers", "15", "--json"],
        env={**os.environ, "XINGDONG_DATABASE_URL": database_url},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout)
    assert set(figures) == EXPECTED
    assert (figures["campaigns"], figures["workers"]) == (40, 15)
    assert figures["errors"] == 0
    assert figures["sent"] > 0
    assert figures["baseline_rps"] > 0 and figures["feed_peak_rps"] > 0
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]
    # Read from /proc on Linux, where the tests run: the server did work for each request.
    assert figures["baseline_cpu_ms"] > 0 and figures["feed_cpu_ms"] > 0
