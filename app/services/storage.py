"""Where uploaded bytes live (DESIGN "Security traps": generated names, outside the web root).

One narrow interface, two backends:

    save(stream, max_bytes) -> (name, size, sha256)   streams in chunks, stops past max_bytes
    open(name) -> readable binary stream                for reading, in chunks
    delete(name)                                        a missing file or object is ignored
    download_url(name, filename, content_type, expires) -> str | None
                                                        a short-lived URL the client may fetch the
                                                        bytes from itself; None: stream them

- ``LocalStorage`` (the default): files under ``UPLOAD_FOLDER``.
- ``S3Storage``: objects in an S3-compatible bucket through boto3, when
  ``STORAGE_URL=s3://bucket/optional/prefix`` is set.

What every backend guarantees:
- Names are always generated here (``ab/cd/<uuid4 hex>``); a path or object key is never built
  from user input, and a name handed back in is checked against that shape (``_NAME``) first.
- ``save`` either returns with everything stored, or raises (``TooLarge`` past ``max_bytes``, an
  error of the stream or of the store) and leaves nothing behind: no partial file, no object, no
  unfinished multipart upload.
- The bytes are hashed and counted while they pass; the whole file is never held in memory (the
  S3 backend holds one part of ``PART_SIZE`` at a time).

Configuration (config.py, from the environment):
  STORAGE_URL ("": the local folder UPLOAD_FOLDER), S3_ENDPOINT_URL (None: AWS), S3_REGION
  ("us-east-1"), STORAGE_PRESIGNED_DOWNLOADS (off), STORAGE_PRESIGNED_SECONDS (60).
Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile,
an instance role, ...), never from this application's configuration.
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
import uuid
from typing import Any, BinaryIO, Optional, Protocol
from urllib.parse import urlsplit

from flask import current_app

from app.services.downloads import content_disposition

CHUNK_SIZE = 64 * 1024
# S3 parts are at least 5 MiB except the last; 8 MiB is boto3's own default chunk size.
PART_SIZE = 8 * 1024 * 1024
_NAME = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}$")
# S3's bucket naming rules (lower case, digits, dots, hyphens; 3 to 63 characters).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")
_EXTENSION_KEY = "gm_storage"
# Presigned URLs live at most a week (S3's limit for SigV4).
_MAX_PRESIGNED_SECONDS = 7 * 24 * 3600


class TooLarge(Exception):
    """The stream is longer than ``max_bytes``; nothing was kept."""


class StorageConfigurationError(RuntimeError):
    """STORAGE_URL or a storage setting is malformed: the application refuses to start."""


class Storage(Protocol):
    def save(self, stream: BinaryIO, max_bytes: int) -> tuple[str, int, str]: ...

    def open(self, name: str) -> BinaryIO: ...

    def delete(self, name: str) -> None: ...

    def download_url(self, name: str, filename: str, content_type: str, expires: int,
                     fallback: Optional[str] = None) -> Optional[str]: ...


def _new_name() -> str:
    token = uuid.uuid4().hex
    return f"{token[:2]}/{token[2:4]}/{token}"


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError("not a stored file name")
    return name


class LocalStorage:
    """Files under ``root`` in a two-level fan-out of generated names.

    A failed ``save`` removes its partial file; ``download_url`` is always None (the
    application streams the file itself)."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)

    def _path(self, name: str) -> str:
        return os.path.join(self.root, *_check_name(name).split("/"))

    def save(self, stream: BinaryIO, max_bytes: int) -> tuple[str, int, str]:
        name = _new_name()
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

    def download_url(self, name: str, filename: str, content_type: str, expires: int,
                     fallback: Optional[str] = None) -> Optional[str]:
        return None


class S3Storage:
    """Objects ``<prefix>/<generated name>`` in one bucket of an S3-compatible store.

    ``save`` streams: a file shorter than one part is one ``put_object``; a longer one is a
    multipart upload in parts of ``PART_SIZE``, read, hashed and counted as it goes. Any failure
    (``TooLarge``, a network error, an exception raised by the stream) deletes the single object
    or aborts the multipart upload, so that no object and no unfinished upload is left.
    ``open`` returns the object's streaming body; ``delete`` ignores a missing object;
    ``download_url`` presigns a GET that names the file (response-content-disposition) and its
    type (response-content-type)."""

    def __init__(self, client: Any, bucket: str, prefix: str = "", part_size: int = PART_SIZE) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.part_size = part_size

    def key(self, name: str) -> str:
        name = _check_name(name)
        return f"{self.prefix}/{name}" if self.prefix else name

    def _read_part(self, stream: BinaryIO, state: dict) -> bytes:
        """Up to one part from ``stream``, in chunks; hashes, counts, stops past max_bytes."""
        part = bytearray()
        while len(part) < self.part_size:
            chunk = stream.read(min(CHUNK_SIZE, self.part_size - len(part)))
            if not chunk:
                break
            state["size"] += len(chunk)
            if state["size"] > state["max_bytes"]:
                raise TooLarge()
            state["digest"].update(chunk)
            part += chunk
        return bytes(part)

    def save(self, stream: BinaryIO, max_bytes: int) -> tuple[str, int, str]:
        name = _new_name()
        key = self.key(name)
        state = {"size": 0, "digest": hashlib.sha256(), "max_bytes": max_bytes}
        first = self._read_part(stream, state)
        if len(first) < self.part_size:
            try:
                self.client.put_object(Bucket=self.bucket, Key=key, Body=first)
            except BaseException:
                # A timeout may come after the store kept the object.
                self._delete_quietly(key)
                raise
        else:
            self._multipart(key, first, stream, state)
        return name, state["size"], state["digest"].hexdigest()

    def _multipart(self, key: str, first: bytes, stream: BinaryIO, state: dict) -> None:
        upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        try:
            parts = []
            part, number = first, 1
            while part:
                answer = self.client.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                                 PartNumber=number, Body=part)
                entry = {"PartNumber": number, "ETag": answer["ETag"]}
                # boto3 adds a CRC checksum to each part by default; the completion must repeat it.
                for field in ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME", "ChecksumSHA1",
                              "ChecksumSHA256"):
                    if answer.get(field):
                        entry[field] = answer[field]
                parts.append(entry)
                if len(part) < self.part_size:
                    break
                part, number = self._read_part(stream, state), number + 1
            self.client.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                                  MultipartUpload={"Parts": parts})
        except BaseException:
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            except Exception:  # the original error matters more; a lifecycle rule cleans up
                current_app.logger.exception("could not abort the multipart upload of %s", key)
            # A completion that timed out may have created the object all the same.
            self._delete_quietly(key)
            raise

    def _delete_quietly(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except Exception:
            current_app.logger.exception("could not delete the object %s after a failed upload", key)

    def open(self, name: str) -> BinaryIO:
        key = self.key(name)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except self.client.exceptions.NoSuchKey:
            # Like the local folder: a missing file is an OSError (the routes answer 404).
            raise FileNotFoundError(key) from None

    def delete(self, name: str) -> None:
        # DeleteObject succeeds on a missing key.
        self.client.delete_object(Bucket=self.bucket, Key=self.key(name))

    def download_url(self, name: str, filename: str, content_type: str, expires: int,
                     fallback: Optional[str] = None) -> Optional[str]:
        return self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self.key(name),
                "ResponseContentDisposition": content_disposition(filename, fallback),
                "ResponseContentType": content_type,
                "ResponseCacheControl": "private, no-store",
            },
            ExpiresIn=int(expires),
        )


# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------
def setting(app, key: str, default: Any = None) -> Any:
    """``app.config[key]`` (config.py reads the environment), else ``default``."""
    return app.config.get(key, default)


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def parse_storage_url(url: Optional[str]) -> Optional[tuple[str, str]]:
    """``(bucket, prefix)`` of an ``s3://bucket/prefix`` URL; None for "" (the local folder).
    Raises StorageConfigurationError for anything else."""
    url = (url or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme != "s3":
        raise StorageConfigurationError(
            f"STORAGE_URL must be empty (local folder) or s3://bucket/optional/prefix, not {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password or parts.port:
        raise StorageConfigurationError(
            f"STORAGE_URL {url!r}: no credentials, port, query or fragment (the endpoint is S3_ENDPOINT_URL, "
            "credentials come from the AWS_* environment or an instance role)")
    bucket = parts.hostname or ""
    if parts.netloc != bucket or not _BUCKET.match(bucket) or ".." in bucket:
        raise StorageConfigurationError(f"STORAGE_URL {url!r}: {bucket!r} is not a valid S3 bucket name")
    segments = [segment for segment in parts.path.split("/") if segment]
    if any(segment in (".", "..") or not _PREFIX_SEGMENT.match(segment) for segment in segments):
        raise StorageConfigurationError(
            f"STORAGE_URL {url!r}: the prefix may hold only letters, digits, '.', '_', '-' and '/'")
    return bucket, "/".join(segments)


def presigned_downloads(app=None) -> bool:
    return _flag(setting(app or current_app, "STORAGE_PRESIGNED_DOWNLOADS", False))


def presigned_seconds(app=None) -> int:
    value = setting(app or current_app, "STORAGE_PRESIGNED_SECONDS", 60)
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        seconds = 0
    if not 1 <= seconds <= _MAX_PRESIGNED_SECONDS:
        raise StorageConfigurationError(
            f"STORAGE_PRESIGNED_SECONDS must be a whole number of seconds from 1 to {_MAX_PRESIGNED_SECONDS}, "
            f"not {value!r}")
    return seconds


def check_configuration(app) -> None:
    """Fail at start-up, with a clear message, on a malformed storage configuration (called by
    create_app). Does not reach the store: a store that is down must not stop the start."""
    if parse_storage_url(setting(app, "STORAGE_URL", "")) is None and not app.config.get("UPLOAD_FOLDER"):
        raise StorageConfigurationError("UPLOAD_FOLDER is not configured (and STORAGE_URL is empty)")
    endpoint = setting(app, "S3_ENDPOINT_URL") or ""
    if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
        raise StorageConfigurationError(f"S3_ENDPOINT_URL must be an http(s) URL, not {endpoint!r}")
    presigned_seconds(app)


def _settings(app) -> tuple:
    return (setting(app, "STORAGE_URL", "") or "", setting(app, "S3_ENDPOINT_URL") or None,
            setting(app, "S3_REGION") or "us-east-1")


_CLIENT_LOCK = threading.Lock()


def _s3_client(app, endpoint: Optional[str], region: str) -> Any:
    import boto3
    from botocore.config import Config

    options: dict[str, Any] = {
        "signature_version": "s3v4",
        "retries": {"mode": "standard", "max_attempts": 3},
        "connect_timeout": 10,
        "read_timeout": 60,
    }
    if endpoint:
        # MinIO and most self-hosted stores serve buckets by path, not as sub-domains.
        options["s3"] = {"addressing_style": "path"}
    # A session of its own: boto3's default session is shared by the whole process and is not
    # thread-safe; the client made from it is.
    return boto3.session.Session().client("s3", endpoint_url=endpoint, region_name=region,
                                          config=Config(**options))


def get_storage(app=None) -> Storage:
    """The configured backend: S3 when STORAGE_URL is set, else the local folder UPLOAD_FOLDER.

    The S3 client is made once per application and settings (cached in ``app.extensions``):
    clients are thread-safe, and making one costs far more than a request should."""
    app = app or current_app
    settings = _settings(app)
    target = parse_storage_url(settings[0])
    if target is None:
        root: Optional[str] = app.config.get("UPLOAD_FOLDER")
        if not root:
            raise StorageConfigurationError("UPLOAD_FOLDER is not configured")
        return LocalStorage(root)
    cached = app.extensions.get(_EXTENSION_KEY)
    if cached is None or cached[0] != settings:
        with _CLIENT_LOCK:
            cached = app.extensions.get(_EXTENSION_KEY)
            if cached is None or cached[0] != settings:
                bucket, prefix = target
                cached = (settings, S3Storage(_s3_client(app, settings[1], settings[2]), bucket, prefix))
                app.extensions[_EXTENSION_KEY] = cached
    return cached[1]


def reset(app=None) -> None:
    """Forget the cached client (tests that switch the configuration; credentials rotated)."""
    (app or current_app).extensions.pop(_EXTENSION_KEY, None)
