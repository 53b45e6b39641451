"""The world every test here starts from: a funded brand with live campaigns on the sandbox
platform, workers and staff (``tests.lifecycle_world``), served with evidence limits small
enough to test (``work_settings``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import make_settings
from tests.integration.work_support import work_settings
from tests.lifecycle_world import World, build_world
from xingdong.core.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(**work_settings(tmp_path / "evidence"))


@pytest.fixture
def workers() -> int:
    """How many workers the world has (a module overrides this fixture for more)."""
    return 3


@pytest.fixture
async def world(
    client: httpx.AsyncClient, clean_db: str, settings: Settings, workers: int
) -> AsyncIterator[World]:
    built = await build_world(clean_db, settings, workers=workers)
    yield built
    await built.db.dispose()
