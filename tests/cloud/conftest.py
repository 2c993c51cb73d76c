"""A real S3 API on the loopback address: moto's server, reached by s3fs over HTTP.

Each test gets its own empty bucket on one server for the session. Credentials are moto's
dummies, given through the environment, so chute subprocesses inherit them;
``storage_options`` / ``--storage-option endpoint_url=...`` point s3fs at the server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("fsspec", reason="fsspec is not installed (pip install 'chute[cloud]')")
pytest.importorskip("s3fs", reason="s3fs is not installed (pip install 'chute[cloud]')")
pytest.importorskip("moto.server", reason="moto[server] is not installed (the test extra)")

_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    old = {k: os.environ.get(k) for k in _ENV}
    os.environ.update(_ENV)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class Bucket:
    """A fresh bucket: its name, the options that reach it, and an s3fs on it."""

    def __init__(self, endpoint: str) -> None:
        import s3fs

        self.endpoint = endpoint
        self.name = "b" + uuid.uuid4().hex[:12]
        self.options: dict[str, Any] = {"endpoint_url": endpoint}
        self.fs = s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True)
        self.fs.mkdir(self.name)

    def url(self, key: str) -> str:
        return f"s3://{self.name}/{key}"

    @property
    def cli_options(self) -> list[str]:
        """What the command line takes to reach this bucket."""
        return ["--storage-option", f"endpoint_url={self.endpoint}"]

    def put(self, key: str, data: bytes) -> str:
        self.fs.pipe_file(f"{self.name}/{key}", data)
        return self.url(key)

    def get(self, key: str) -> bytes:
        self.fs.invalidate_cache()
        return bytes(self.fs.cat_file(f"{self.name}/{key}"))

    def keys(self) -> list[str]:
        """Every object in the bucket (what ``ls`` shows), fresh from the server."""
        self.fs.invalidate_cache()
        return sorted(p.split("/", 1)[1] for p in self.fs.find(self.name))

    def uploads(self) -> list[dict[str, Any]]:
        """Multipart uploads begun and neither completed nor aborted."""
        return list(self.fs.call_s3("list_multipart_uploads", Bucket=self.name).get("Uploads", []))


@pytest.fixture
def bucket(s3_endpoint: str) -> Bucket:
    return Bucket(s3_endpoint)
