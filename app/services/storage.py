"""Where uploaded bytes live (DESIGN "Security traps": generated names, outside the web root).

A deliberately narrow interface so that an object store (S3) can replace the local folder:

    save(stream, max_bytes) -> (name, size, sha256)   streams in chunks, stops past max_bytes
    open(name) -> binary file                           for reading
    delete(name)                                        missing files are ignored

Names are always generated here (``ab/cd/<uuid4 hex>``); a path is never built from user
input, and a name handed back in is checked against that shape before it is used.
"""
from __future__ import annotations

import hashlib
import os
import re
import uuid
from typing import BinaryIO, Optional, Protocol

from flask import current_app

CHUNK_SIZE = 64 * 1024
_NAME = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}$")


class TooLarge(Exception):
    """The stream is longer than ``max_bytes``; nothing was kept."""


class Storage(Protocol):
    def save(self, stream: BinaryIO, max_bytes: int) -> tuple[str, int, str]: ...

    def open(self, name: str) -> BinaryIO: ...

    def delete(self, name: str) -> None: ...


class LocalStorage:
    """Files under ``root`` in a two-level fan-out of generated names."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)

    def _path(self, name: str) -> str:
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError("not a stored file name")
        return os.path.join(self.root, *name.split("/"))

    def save(self, stream: BinaryIO, max_bytes: int) -> tuple[str, int, str]:
        token = uuid.uuid4().hex
        name = f"{token[:2]}/{token[2:4]}/{token}"
        path = self._path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        try:
            # "xb": never overwrite; the name is new.
            with open(path, "xb") as handle:
                while True:
                    chunk = stream.read(CHUNK_SIZE)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge()
                    digest.update(chunk)
                    handle.write(chunk)
        except BaseException:
            self.delete(name)
            raise
        return name, size, digest.hexdigest()

    def open(self, name: str) -> BinaryIO:
        return open(self._path(name), "rb")

    def delete(self, name: str) -> None:
        try:
            os.remove(self._path(name))
        except FileNotFoundError:
            pass


def get_storage(app=None) -> Storage:
    """The configured backend (the local folder ``UPLOAD_FOLDER`` today)."""
    app = app or current_app
    root: Optional[str] = app.config.get("UPLOAD_FOLDER")
    if not root:
        raise RuntimeError("UPLOAD_FOLDER is not configured")
    return LocalStorage(root)
