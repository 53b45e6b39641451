"""The embedded PostgreSQL's first screen stays quiet on a machine without a runtime dir."""

from __future__ import annotations

import os
import subprocess
import sys


def test_finding_the_embedded_server_warns_nothing_without_xdg_runtime_dir() -> None:
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    # Every warning an error: before the filter, the library's import warned here.
    script = "from xingdong.core.embedded_db import _server_starter; _server_starter()"
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "XDG_RUNTIME_DIR" not in done.stderr
