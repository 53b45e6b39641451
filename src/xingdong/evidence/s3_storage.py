"""Evidence bytes in an S3-compatible bucket (AWS S3, MinIO, Alibaba OSS, Tencent COS …),
for deployments with more than one host (``XINGDONG_EVIDENCE_STORAGE=s3``).

Each call opens its own client on the process's one botocore session: the session keeps
the service description and credentials once loaded, and a client belongs to one event
loop, which a job worker and a test may each have several of. Uploads are rare enough
(one per hand-in) that a client's set-up does not count.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from aiobotocore.session import AioSession, get_session
from botocore.exceptions import ClientError

from xingdong.core.settings import Settings
from xingdong.evidence.storage import KEY_PATTERN, PIECE, check_key

MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


class S3Storage:
    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self._options: dict[str, Any] = {
            "endpoint_url": endpoint_url,
            "region_name": region,
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret_access_key,
        }
        self._session: AioSession = get_session()

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        assert settings.evidence_s3_bucket is not None
        secret = settings.evidence_s3_secret_access_key
        return cls(
            settings.evidence_s3_bucket,
            prefix=settings.evidence_s3_prefix,
            endpoint_url=settings.evidence_s3_endpoint_url,
            region=settings.evidence_s3_region,
            access_key_id=settings.evidence_s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
        )

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[Any]:
        async with self._session.create_client("s3", **self._options) as client:
            yield client

    def _object(self, key: str) -> str:
        return self.prefix + check_key(key)

    async def put(self, key: str, data: bytes) -> None:
        # One PUT: S3 stores the object whole or not at all, as the folder's rename does.
        async with self._client() as client:
            await client.put_object(Bucket=self.bucket, Key=self._object(key), Body=data)

    async def get(self, key: str) -> bytes:
        return await self._read(key)

    async def get_part(self, key: str, first: int, last: int) -> bytes:
        return await self._read(key, Range=f"bytes={first}-{last}")

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        async with self._client() as client:
            try:
                answer = await client.get_object(Bucket=self.bucket, Key=self._object(key))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in MISSING:
                    raise FileNotFoundError(key) from None
                raise
            async with answer["Body"] as body:
                async for piece in body.iter_chunks(PIECE):
                    yield piece

    async def _read(self, key: str, **asked: str) -> bytes:
        async with self._client() as client:
            try:
                answer = await client.get_object(Bucket=self.bucket, Key=self._object(key), **asked)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in MISSING:
                    raise FileNotFoundError(key) from None
                raise
            async with answer["Body"] as body:
                data: bytes = await body.read()
                return data

    def local_path(self, key: str) -> Path | None:  # noqa: ARG002 - a remote store
        return None

    async def stored_at(self, key: str) -> datetime | None:
        async with self._client() as client:
            try:
                answer = await client.head_object(Bucket=self.bucket, Key=self._object(key))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in MISSING:
                    return None
                raise
        modified: datetime = answer["LastModified"]
        return modified

    async def remove_leftovers(self, before: datetime) -> int:  # noqa: ARG002
        # A PUT is stored whole or not at all, and no upload here is multipart: an
        # interrupted write leaves nothing behind.
        return 0

    async def delete(self, key: str) -> None:
        # Deleting what is not there succeeds in S3, as the folder's does.
        async with self._client() as client:
            await client.delete_object(Bucket=self.bucket, Key=self._object(key))

    async def keys_after(self, after: str, limit: int) -> list[str]:
        found: list[str] = []
        start = self.prefix + after if after else ""
        async with self._client() as client:
            while len(found) < limit:
                asked: dict[str, Any] = {
                    "Bucket": self.bucket,
                    "Prefix": self.prefix,
                    "MaxKeys": min(1_000, limit - len(found)),
                }
                if start:
                    asked["StartAfter"] = start
                answer = await client.list_objects_v2(**asked)
                names = [item["Key"] for item in answer.get("Contents", [])]
                if not names:
                    break
                start = names[-1]
                # Objects under the prefix that are not keys (put there by hand) never count.
                found.extend(
                    key for name in names if KEY_PATTERN.fullmatch(key := name[len(self.prefix) :])
                )
                if not answer.get("IsTruncated"):
                    break
        return found[:limit]
