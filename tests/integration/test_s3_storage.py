"""Evidence bytes in an S3-compatible bucket, against a real S3 HTTP endpoint: moto's
server, standing in for the bucket as the sandbox providers stand in for payments. The
storage keeps, reads and deletes bytes; a missing object reads as missing; its keys list
in order a page at a time, under its prefix only; the evidence service stores and reads
a screenshot through it and the sweep of unreferenced bytes works on it; settings pick it
and refuse it half-configured."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import pytest
from aiobotocore.session import get_session
from moto.server import ThreadedMotoServer
from pydantic import ValidationError

from tests.evidence_samples import encoded, mp4_header, screenshot
from tests.factories import register
from tests.integration.conftest import make_settings
from tests.integration.test_evidence import add_person
from tests.integration.test_evidence_sweep import every_key
from tests.integration.test_pages_http import sign_in
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.core.ids import new_id
from xingdong.core.runtime import build_evidence_storage
from xingdong.core.settings import Settings
from xingdong.evidence import service
from xingdong.evidence.byte_ranges import PART_BYTES
from xingdong.evidence.s3_storage import S3Storage
from xingdong.evidence.storage import InvalidStorageKey

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
async def bucket(endpoint: str) -> AsyncIterator[str]:
    name = f"evidence-{uuid4().hex[:12]}"
    session = get_session()
    async with session.create_client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS
    ) as client:
        await client.create_bucket(Bucket=name)
        # Something else in the same bucket, outside the storage's prefix.
        await client.put_object(Bucket=name, Key="reports/2026-12.csv", Body=b"a,b")
        yield name


def storage_for(endpoint: str, bucket: str, prefix: str = "evidence/") -> S3Storage:
    return S3Storage(
        bucket, prefix=prefix, endpoint_url=endpoint, region="us-east-1",
        access_key_id="testing", secret_access_key="testing",
    )  # fmt: skip


async def test_bytes_are_kept_read_and_deleted(endpoint: str, bucket: str) -> None:
    storage = storage_for(endpoint, bucket)
    key = service.storage_key_for(new_id(), "ab" * 8)
    await storage.put(key, b"\x89PNG bytes")
    assert await storage.get(key) == b"\x89PNG bytes"
    assert storage.local_path(key) is None  # remote: sent from the bytes, not a file
    await storage.put(key, b"replaced")
    assert await storage.get(key) == b"replaced"
    assert await storage.get_part(key, 2, 4) == b"pla"
    assert b"".join([piece async for piece in storage.stream(key)]) == b"replaced"
    stored = await storage.stored_at(key)
    assert stored is not None and abs(stored - utcnow()) < timedelta(minutes=5)
    await storage.delete(key)
    with pytest.raises(FileNotFoundError):
        await storage.get(key)
    with pytest.raises(FileNotFoundError):
        await storage.get_part(key, 0, 1)
    with pytest.raises(FileNotFoundError):
        [piece async for piece in storage.stream(key)]
    assert await storage.stored_at(key) is None
    assert await storage.remove_leftovers(utcnow()) == 0
    await storage.delete(key)  # not there: nothing happens
    with pytest.raises(InvalidStorageKey):
        await storage.put("../escape", b"x")


async def test_keys_list_in_order_under_the_prefix_only(endpoint: str, bucket: str) -> None:
    storage = storage_for(endpoint, bucket)
    assert await storage.keys_after("", 10) == []
    keys = sorted(service.storage_key_for(new_id(), f"{n:02x}" * 8) for n in range(0, 256, 23))
    for key in keys:
        await storage.put(key, b"x")
    # Put there by hand under the prefix, not a key: never listed.
    session = get_session()
    async with session.create_client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS
    ) as client:
        await client.put_object(Bucket=bucket, Key="evidence/README.txt", Body=b"hi")
    for page in (1, 3, 100):
        assert await every_key(storage, page) == keys
    assert await storage.keys_after(keys[2], 2) == keys[3:5]


async def test_the_evidence_service_and_its_sweep_work_on_a_bucket(
    endpoint: str, bucket: str, db: Database
) -> None:
    storage = storage_for(endpoint, bucket)
    settings = make_settings(evidence_ocr=False)
    owner = await add_person(db)
    data = encoded(screenshot(), "PNG")
    async with db.session_scope() as s:
        kept = await service.store_image(
            s, storage, owner_id=owner, data=data, filename="a.png", settings=settings
        )
    async with db.sessionmaker() as s:
        assert await service.read_bytes(storage, await service.get_file(s, kept.id)) == data
    lost = service.storage_key_for(new_id(), "cd" * 8)
    await storage.put(lost, b"an upload whose row never committed")
    async with db.sessionmaker() as s:
        assert await service.sweep_unreferenced(s, storage) == 0
        later = utcnow() + service.UNREFERENCED_AFTER + timedelta(minutes=1)
        assert await service.sweep_unreferenced(s, storage, now=later) == 1
    assert await storage.keys_after("", 10) == [kept.storage_key]


def test_settings_choose_the_bucket_and_refuse_half_of_it(tmp_path: Path) -> None:
    chosen = build_evidence_storage(
        make_settings(evidence_storage="s3", evidence_s3_bucket="xd-evidence")
    )
    assert isinstance(chosen, S3Storage) and chosen.bucket == "xd-evidence"
    assert not isinstance(build_evidence_storage(make_settings()), S3Storage)
    with pytest.raises(ValidationError, match="EVIDENCE_S3_BUCKET"):
        Settings(_env_file=None, data_dir=tmp_path, evidence_storage="s3")
    with pytest.raises(ValidationError, match="or neither"):
        Settings(
            _env_file=None, data_dir=tmp_path, evidence_storage="s3",
            evidence_s3_bucket="xd-evidence", evidence_s3_access_key_id="only-half",
        )  # fmt: skip


def test_empty_settings_in_the_environment_count_as_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XINGDONG_EVIDENCE_S3_ACCESS_KEY_ID", "")
    monkeypatch.setenv("XINGDONG_EVIDENCE_S3_SECRET_ACCESS_KEY", " ")
    monkeypatch.setenv("XINGDONG_EVIDENCE_S3_REGION", "")
    settings = Settings(
        _env_file=None, data_dir=tmp_path, evidence_storage="s3", evidence_s3_bucket="xd-ev"
    )
    assert settings.evidence_s3_access_key_id is None
    assert settings.evidence_s3_secret_access_key is None
    assert settings.evidence_s3_region is None
    monkeypatch.setenv("XINGDONG_EVIDENCE_S3_ACCESS_KEY_ID", "AKIAEXAMPLE")
    with pytest.raises(ValidationError, match="or neither"):
        Settings(
            _env_file=None, data_dir=tmp_path, evidence_storage="s3", evidence_s3_bucket="xd-ev"
        )
    monkeypatch.setenv("XINGDONG_EVIDENCE_S3_BUCKET", "")
    with pytest.raises(ValidationError, match="EVIDENCE_S3_BUCKET"):
        Settings(_env_file=None, data_dir=tmp_path, evidence_storage="s3")


async def test_a_video_in_a_bucket_is_sent_a_part_at_a_time_as_players_ask(
    endpoint: str, bucket: str, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    storage = storage_for(endpoint, bucket)
    monkeypatch.setattr(runtime, "evidence", storage)
    owner = await register(client)
    data = mp4_header() + bytes(range(256)) * (3 * PART_BYTES // 256 + 7)
    async with runtime.db.session_scope() as s:
        file = await service.store_video(
            s, storage, owner_id=UUID(owner.id), data=data, filename="v.mp4",
            settings=runtime.settings,
        )  # fmt: skip
    await sign_in(client, owner.phone)
    url = f"/evidence/{file.id}"
    # Safari's probe, then the player's open range: parts, never the whole at once.
    probe = await client.get(url, headers={"Range": "bytes=0-1"})
    assert probe.status_code == 206 and probe.content == data[:2]
    assert probe.headers["content-range"] == f"bytes 0-1/{len(data)}"
    assert probe.headers["accept-ranges"] == "bytes"
    assert probe.headers["content-type"] == file.content_type
    opened = await client.get(url, headers={"Range": "bytes=0-"})
    assert opened.status_code == 206 and opened.content == data[:PART_BYTES]
    got = opened.content
    while len(got) < len(data):
        more = await client.get(url, headers={"Range": f"bytes={len(got)}-"})
        assert more.status_code == 206
        first, last = more.headers["content-range"].split(" ")[1].split("/")[0].split("-")
        assert int(first) == len(got) and int(last) - int(first) + 1 == len(more.content)
        got += more.content
    assert got == data
    tail = await client.get(url, headers={"Range": "bytes=-100"})
    assert tail.content == data[-100:]
    # No range: the whole file, saying parts may be asked for.
    whole = await client.get(url)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-length"] == str(len(data))
    # Several ranges: one part from the first to the last, never the whole file.
    joined = await client.get(url, headers={"Range": "bytes=0-1,5-6"})
    assert joined.status_code == 206 and joined.content == data[:7]
    # Past the end: refused, with the file's length.
    past = await client.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert past.status_code == 416
    assert past.headers["content-range"] == f"bytes */{len(data)}"
    # The API answers the same way.
    token = owner.auth
    api = await client.get(f"/api/v1/evidence/{file.id}", headers={**token, "Range": "bytes=4-9"})
    assert api.status_code == 206 and api.content == data[4:10]
    refused = await client.get(
        f"/api/v1/evidence/{file.id}", headers={**token, "Range": f"bytes={len(data) + 5}-"}
    )
    assert refused.status_code == 416
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "range_not_satisfiable"
