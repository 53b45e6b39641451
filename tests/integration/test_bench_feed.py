"""``xingdong bench feed`` runs end to end on a small generated platform and reports
every figure (no speed is asserted: figures are for the benchmark's table)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# The benchmark reads how busy the machine is; other tests beside it would be its "other work".
pytestmark = pytest.mark.serial

EXPECTED = {
    "baseline_rps", "feed_peak_rps", "ratio", "open_loop_rps", "p50_ms", "p99_ms",
    "in_flight_p99_ms", "sent", "errors", "campaigns", "workers", "baseline_cpu_ms",
    "feed_cpu_ms", "round_ratios", "round_p99_ms", "round_slowdown", "round_other_cores",
    "server_processes",
}  # fmt: skip


def test_the_feed_benchmark_prints_one_json_object(database_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "xingdong", "bench", "feed", "--seconds", "0.5",
         "--campaigns", "40", "--workers", "15", "--rounds", "2", "--json"],
        env={**os.environ, "XINGDONG_DATABASE_URL": database_url},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout)
    assert set(figures) == EXPECTED
    assert (figures["campaigns"], figures["workers"]) == (40, 15)
    assert figures["server_processes"] == 1  # as xingdong serve runs by default
    assert figures["errors"] == 0
    assert figures["sent"] > 0
    assert figures["baseline_rps"] > 0 and figures["feed_peak_rps"] > 0
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]
    assert 0 < figures["in_flight_p99_ms"] <= figures["p99_ms"]
    # Two rounds side by side; the ratio is the median of theirs.
    assert len(figures["round_ratios"]) == len(figures["round_p99_ms"]) == 2
    assert min(figures["round_ratios"]) <= figures["ratio"] <= max(figures["round_ratios"])
    assert all(p99 > 0 for p99 in figures["round_p99_ms"])
    # The probe beside the benchmark timed its fixed work at least once a round.
    assert all(x is not None and x >= 1 for x in figures["round_slowdown"])
    # Other work on the machine, read from /proc: a share of its cores, never negative.
    cores = os.cpu_count() or 1
    assert all(x is not None and 0 <= x <= cores for x in figures["round_other_cores"])
    # Read from /proc on Linux, where the tests run: the server did work for each request.
    assert figures["baseline_cpu_ms"] > 0 and figures["feed_cpu_ms"] > 0


def test_the_feed_benchmark_warns_when_other_work_shares_the_machine(database_url: str) -> None:
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        done = subprocess.run(
            [sys.executable, "-m", "xingdong", "bench", "feed", "--seconds", "0.5",
             "--campaigns", "40", "--workers", "15", "--rounds", "1",
             "--server-processes", "2"],
            env={**os.environ, "XINGDONG_DATABASE_URL": database_url},
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
    finally:
        spinner.kill()
        spinner.wait()
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Other work kept" in done.stderr
    assert "cores busy with other work" in done.stdout
    # Two server processes asked for, connections spread over them, every request served.
    assert "2 server processes" in done.stdout
    assert "errors" in done.stdout and " 0 of " in done.stdout
