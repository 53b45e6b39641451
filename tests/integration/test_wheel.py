"""The built package, as an operator installs it: its migrations, templates, translations
and static files are in the wheel, not only in the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from xingdong.core.migrate import schema_standing

ROOT = Path(__file__).resolve().parents[2]

# Run with the installed wheel first on the path (before the checkout's editable install).
PAGES = """
import asyncio, sys
import httpx, xingdong
from xingdong.app import create_app
from xingdong.core.settings import get_settings

assert xingdong.__file__.startswith(sys.argv[1]), xingdong.__file__

async def main() -> None:
    app = create_app(get_settings())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://wheel") as http:
        for path, needle in (
            ("/login", "登录"),
            ("/static/app.css", "{"),
            ("/api/v1/openapi.json", '"openapi"'),
        ):
            answer = await http.get(path)
            assert answer.status_code == 200, (path, answer.status_code)
            assert needle in answer.text, path
        english = await http.get("/login", headers={"Accept-Language": "en"})
        assert "Sign in" in english.text, english.text[:300]
    await app.state.runtime.db.dispose()
    print("pages ok")

asyncio.run(main())
"""


def test_the_wheel_migrates_a_database_and_serves_its_pages(empty_db: str, tmp_path: Path) -> None:
    def run(*args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
            check=False,
        )  # fmt: skip
        assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
        return done.stdout

    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", "dist", str(ROOT))
    (wheel,) = (tmp_path / "dist").glob("xingdong-*.whl")
    site = tmp_path / "site"
    run(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
        str(wheel))  # fmt: skip
    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "XINGDONG_DATABASE_URL": empty_db,
        "XINGDONG_DATA_DIR": str(tmp_path / "data"),
        "XINGDONG_LOG_LEVEL": "WARNING",
    }
    run(sys.executable, "-m", "xingdong", "db", "upgrade", env=env)
    assert schema_standing(empty_db).up_to_date
    assert "pages ok" in run(sys.executable, "-c", PAGES, str(site), env=env)
