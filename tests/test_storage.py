"""Attachment storage behind one interface (issue 10 point 1): the local folder and S3-compatible
object storage through boto3, tested against a real S3 server on loopback (moto's server mode,
started here). A failed upload leaves neither object, nor unfinished multipart upload, nor row;
downloads stream, or redirect to a short-lived presigned URL, only after the scope check.

The S3 tests are skipped, with the reason, where moto is not installed or its server cannot
start; the local folder's tests always run."""
from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
import urllib.request
import uuid

import pytest
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import Attachment
from app.services import storage, uploads
from app.services.exceptions import DomainError, ValidationFailed
from tests.conftest import sample_jpeg
from tests.test_uploads import setup  # noqa: F401  (the draft records and their enterprise user)

MB = 1024 * 1024
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def big_pdf(size: int) -> bytes:
    """``size`` bytes that start like a PDF (the type is sniffed from the head)."""
    block = hashlib.sha256(b"gm").digest() * 2048  # 64 KiB of varied bytes
    data = PDF + block * (size // len(block) + 1)
    return data[:size]


class Recording(io.RawIOBase):
    """A non-seekable stream over ``data`` that remembers the largest read asked of it, and can
    fail once ``fail_after`` bytes have been read (a client that goes away mid-upload)."""

    def __init__(self, data: bytes, fail_after: int | None = None) -> None:
        self.data, self.position, self.fail_after, self.largest_read = data, 0, fail_after, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.largest_read = max(self.largest_read, size if size >= 0 else len(self.data))
        if self.fail_after is not None and self.position >= self.fail_after:
            raise OSError("connection reset by the client")
        end = len(self.data) if size < 0 else self.position + size
        chunk, self.position = self.data[self.position:end], min(end, len(self.data))
        return chunk


# ---------------------------------------------------------------------------
# The S3 server on loopback
# ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 server on a free loopback port for the session, with dummy credentials in the
    environment (boto3's usual chain reads them). Skipped with the reason if it cannot start."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        pytest.skip(f"moto's server mode is not installed (pip install -r tests/requirements.txt): {exc}")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    # start() waits for the server forever if it cannot bind: give it a bounded time.
    starter = threading.Thread(target=server.start, daemon=True)
    starter.start()
    starter.join(60)
    if starter.is_alive():
        pytest.skip("moto's S3 server did not start on 127.0.0.1 within 60 s")
    host, port = server.get_host_and_port()
    # The server logs every request through werkzeug's logger: keep a failure's report readable.
    werkzeug_logger = logging.getLogger("werkzeug")
    werkzeug_level = werkzeug_logger.level
    werkzeug_logger.setLevel(logging.WARNING)
    saved = {key: os.environ.get(key) for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                  "AWS_SESSION_TOKEN", "AWS_PROFILE")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    try:
        yield f"http://{host}:{port}"
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()
        werkzeug_logger.setLevel(werkzeug_level)


@pytest.fixture(scope="module")
def bucket(s3_endpoint):
    import boto3

    client = boto3.session.Session().client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    name = f"gm-test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return client, name


@pytest.fixture
def s3(app, bucket, s3_endpoint, monkeypatch):
    """The app on S3 for one test (its own prefix in the module's bucket); the session-wide app
    goes back to the local folder afterwards."""
    client, name = bucket
    prefix = f"t{uuid.uuid4().hex[:8]}/attachments"
    monkeypatch.setitem(app.config, "STORAGE_URL", f"s3://{name}/{prefix}")
    monkeypatch.setitem(app.config, "S3_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setitem(app.config, "S3_REGION", "us-east-1")
    storage.reset(app)

    class S3:
        def keys(self) -> list[str]:
            answer = client.list_objects_v2(Bucket=name, Prefix=prefix + "/")
            return [entry["Key"] for entry in answer.get("Contents", [])]

        def unfinished(self) -> list[str]:
            answer = client.list_multipart_uploads(Bucket=name, Prefix=prefix + "/")
            return [entry["Key"] for entry in answer.get("Uploads", [])]

        def assert_empty(self) -> None:
            assert self.keys() == [] and self.unfinished() == []

    S3.client, S3.bucket, S3.prefix, S3.endpoint = client, name, prefix, s3_endpoint
    yield S3()
    storage.reset(app)




def fs(data, name: str) -> FileStorage:
    return FileStorage(stream=data if hasattr(data, "read") else io.BytesIO(data), filename=name)


# ---------------------------------------------------------------------------
# The S3 backend on its own
# ---------------------------------------------------------------------------
def test_s3_round_trip_small_and_multipart(app, s3):
    backend = storage.get_storage()
    assert isinstance(backend, storage.S3Storage)
    assert storage.get_storage().client is backend.client  # one client per app, not per call

    small = Recording(PDF)
    name, size, digest = backend.save(small, 10 * MB)
    assert storage._NAME.match(name)
    assert (size, digest) == (len(PDF), hashlib.sha256(PDF).hexdigest())
    assert s3.keys() == [f"{s3.prefix}/{name}"]
    with backend.open(name) as body:
        assert body.read() == PDF

    # Larger than one part: a multipart upload of an 8 MiB and a 1 MiB part, read in chunks.
    data = big_pdf(9 * MB)
    stream = Recording(data)
    big, size, digest = backend.save(stream, 10 * MB)
    assert (size, digest) == (len(data), hashlib.sha256(data).hexdigest())
    assert stream.largest_read <= storage.CHUNK_SIZE
    head = s3.client.head_object(Bucket=s3.bucket, Key=backend.key(big))
    assert head["ContentLength"] == len(data) and head["ETag"].strip('"').endswith("-2")
    with backend.open(big) as body:
        assert b"".join(iter(lambda: body.read(storage.CHUNK_SIZE), b"")) == data
    assert s3.unfinished() == []

    backend.delete(name)
    backend.delete(big)
    backend.delete(big)  # a missing object is ignored
    s3.assert_empty()
    with pytest.raises(FileNotFoundError):
        backend.open(name)


def test_s3_names_are_generated_and_checked(app, s3):
    backend = storage.get_storage()
    for bad in ("../etc/passwd", "ab/cd/../../x", "AB/CD/" + "0" * 32, "", None, f"{s3.prefix}/x"):
        with pytest.raises(ValueError):
            backend.open(bad)
        with pytest.raises(ValueError):
            backend.delete(bad)
    s3.assert_empty()


@pytest.mark.parametrize("size, limit", [(1000, 100), (9 * MB, 8 * MB + 512 * 1024)],
                         ids=["single-object", "multipart"])
def test_s3_too_large_leaves_no_object_and_no_unfinished_upload(app, s3, size, limit):
    with pytest.raises(storage.TooLarge):
        storage.get_storage().save(Recording(big_pdf(size)), limit)
    s3.assert_empty()


@pytest.mark.parametrize("fail_after", [1024, 8 * MB + 256 * 1024], ids=["first-part", "second-part"])
def test_s3_a_stream_failing_mid_way_leaves_nothing(app, s3, fail_after):
    with pytest.raises(OSError, match="connection reset"):
        storage.get_storage().save(Recording(big_pdf(9 * MB), fail_after=fail_after), 10 * MB)
    s3.assert_empty()


def test_s3_a_store_error_mid_way_aborts_the_multipart_upload(app, s3, monkeypatch):
    from botocore.exceptions import EndpointConnectionError

    backend = storage.get_storage()
    real_upload_part, calls = backend.client.upload_part, []

    def flaky_upload_part(**kwargs):
        calls.append(kwargs["PartNumber"])
        if kwargs["PartNumber"] == 2:
            raise EndpointConnectionError(endpoint_url=s3.endpoint)
        return real_upload_part(**kwargs)

    monkeypatch.setattr(backend.client, "upload_part", flaky_upload_part)
    with pytest.raises(EndpointConnectionError):
        backend.save(Recording(big_pdf(9 * MB)), 10 * MB)
    assert calls == [1, 2]
    s3.assert_empty()


# ---------------------------------------------------------------------------
# The upload service and the routes over S3
# ---------------------------------------------------------------------------
def test_attach_through_s3_and_its_refusals_leave_neither_object_nor_row(app, s3, setup, monkeypatch):
    user, record, application = setup["user"], setup["pd"], setup["app"]
    photo = uploads.attach("PreDeclaration", record.id, "3", fs(sample_jpeg(), "大门.jpg"), user)
    pdf = uploads.attach("Application", application.id, "document", fs(Recording(big_pdf(9 * MB)), "报告.pdf"),
                         user)
    assert s3.keys() == sorted([f"{s3.prefix}/{photo.stored_name}", f"{s3.prefix}/{pdf.stored_name}"])
    assert pdf.size_bytes == 9 * MB and pdf.sha256 == hashlib.sha256(big_pdf(9 * MB)).hexdigest()
    keys_before, rows_before = s3.keys(), db.session.query(Attachment).count()

    def refused(owner_type, owner_id, slot, data, name):
        with pytest.raises(DomainError):
            uploads.attach(owner_type, owner_id, slot, fs(data, name), user)
        db.session.rollback()
        assert s3.keys() == keys_before and s3.unfinished() == []
        assert db.session.query(Attachment).count() == rows_before

    # A bad type; a damaged image (read back from the store to be checked).
    refused("Application", application.id, "document", b"MZ\x90\x00 not a pdf", "a.pdf")
    refused("PreDeclaration", record.id, "3", sample_jpeg()[:200], "cut.jpg")
    # Too large: the size is known before reading, or found while streaming a multipart upload.
    with monkeypatch.context() as patch:
        patch.setitem(app.config, "UPLOAD_PDF_MAX_BYTES", 8 * MB + 512 * 1024)
        refused("Application", application.id, "document", big_pdf(9 * MB), "big.pdf")
        refused("Application", application.id, "document", Recording(big_pdf(9 * MB)), "big.pdf")

    # The database fails after the object was stored: the object goes too.
    def broken_commit():
        raise RuntimeError("database down")

    with monkeypatch.context() as patch:
        patch.setattr(db.session, "commit", broken_commit)
        with pytest.raises(RuntimeError, match="database down"):
            uploads.attach("Application", application.id, "document", fs(Recording(big_pdf(9 * MB)), "c.pdf"),
                           user)
    db.session.rollback()
    assert s3.keys() == keys_before and s3.unfinished() == []
    assert db.session.query(Attachment).count() == rows_before

    # Removal deletes the object.
    uploads.remove(photo.id, user)
    assert s3.keys() == [f"{s3.prefix}/{pdf.stored_name}"]


def test_downloads_stream_from_s3_through_the_screens_and_the_api(app, s3, setup, browser, api, make_user):
    user, application = setup["user"], setup["app"]
    data = big_pdf(9 * MB)
    pdf = uploads.attach("Application", application.id, "document", fs(data, "自评报告.pdf"), user)
    for response in (browser(user).get(f"/attachments/{pdf.id}"),
                     api(user).get(f"/api/v1/attachment/{pdf.id}/file")):
        assert response.status_code == 200 and response.data == data
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert "UTF-8''%E8%87%AA%E8%AF%84" in response.headers["Content-Disposition"]
    neighbour = make_user("county", region="140121")
    assert browser(neighbour).get(f"/attachments/{pdf.id}").status_code == 404
    assert api(neighbour).get(f"/api/v1/attachment/{pdf.id}/file").status_code == 404


def test_presigned_redirect_only_after_the_scope_check(app, s3, setup, browser, api, make_user, make_mine,
                                                         monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_PRESIGNED_DOWNLOADS", True)
    monkeypatch.setitem(app.config, "STORAGE_PRESIGNED_SECONDS", 60)
    user, application = setup["user"], setup["app"]
    data = PDF + b"%" * 1000
    pdf = uploads.attach("Application", application.id, "document", fs(data, "自评报告 2026.pdf"), user)

    for response in (browser(user).get(f"/attachments/{pdf.id}"),
                     api(user).get(f"/api/v1/attachment/{pdf.id}/file"),
                     browser(make_user("county", region="140105")).get(f"/attachments/{pdf.id}")):
        assert response.status_code == 302
        assert response.headers["Cache-Control"] == "private, no-store"
        location = response.headers["Location"]
        assert location.startswith(s3.endpoint + "/") and "X-Amz-Expires=60" in location
        # The URL works on its own, and names the file and its type.
        with urllib.request.urlopen(location, timeout=30) as fetched:
            assert fetched.read() == data
            assert fetched.headers["Content-Type"] == "application/pdf"
            disposition = fetched.headers["Content-Disposition"]
            assert disposition.startswith("attachment;") and f'filename="attachment-{pdf.id}.pdf"' in disposition
            assert "filename*=UTF-8''%E8%87%AA%E8%AF%84%E6%8A%A5%E5%91%8A%202026.pdf" in disposition

    # Out of scope, another enterprise, a missing file, anonymous: no URL of the store leaks.
    other = make_user("enterprise", enterprise=make_mine("140105").enterprise)
    neighbour = make_user("county", region="140121")
    answers = [browser(other).get(f"/attachments/{pdf.id}"), browser(neighbour).get(f"/attachments/{pdf.id}"),
               api(neighbour).get(f"/api/v1/attachment/{pdf.id}/file"), api(other).get("/api/v1/attachment/999999/file")]
    for response in answers:
        assert response.status_code == 404
        assert "Location" not in response.headers
        body = response.get_data(as_text=True)
        assert s3.bucket not in body and "X-Amz-Signature" not in body
    anonymous = browser().get(f"/attachments/{pdf.id}")
    assert anonymous.status_code == 302 and s3.endpoint not in anonymous.headers["Location"]
    assert api().get(f"/api/v1/attachment/{pdf.id}/file").status_code == 401


# ---------------------------------------------------------------------------
# The local folder and the configuration
# ---------------------------------------------------------------------------
def test_the_local_folder_stays_the_default_and_streams_even_with_presigning_on(app, setup, browser,
                                                                                 monkeypatch):
    assert not app.config.get("STORAGE_URL")
    backend = storage.get_storage()
    assert isinstance(backend, storage.LocalStorage)
    assert backend.root == os.path.abspath(app.config["UPLOAD_FOLDER"])
    name, size, digest = backend.save(Recording(PDF), 1000)
    assert os.path.isfile(os.path.join(backend.root, *name.split("/")))
    assert backend.download_url(name, "a.pdf", "application/pdf", 60) is None
    backend.delete(name)
    with pytest.raises(storage.TooLarge):
        backend.save(Recording(PDF), 10)

    monkeypatch.setitem(app.config, "STORAGE_PRESIGNED_DOWNLOADS", True)
    user = setup["user"]
    pdf = uploads.attach("Application", setup["app"].id, "document", fs(PDF, "a.pdf"), user)
    response = browser(user).get(f"/attachments/{pdf.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("url, bucket, prefix", [
    ("", None, None),
    ("s3://green-mine", "green-mine", ""),
    ("s3://green-mine/", "green-mine", ""),
    ("s3://green.mine-2/prod/attachments/", "green.mine-2", "prod/attachments"),
])
def test_storage_urls(url, bucket, prefix):
    parsed = storage.parse_storage_url(url)
    assert parsed == (None if bucket is None else (bucket, prefix))


@pytest.mark.parametrize("url", [
    "s3://", "s3:///prefix", "http://bucket/prefix", "bucket/prefix", "s3://Green_Mine", "s3://ab",
    "s3://bucket?region=x", "s3://key:secret@bucket", "s3://bucket:9000", "s3://bucket/../up",
    "s3://bucket/a b", "file:///srv/uploads",
])
def test_a_malformed_storage_url_stops_the_start(app, url, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_URL", url)
    with pytest.raises(storage.StorageConfigurationError):
        storage.check_configuration(app)


@pytest.mark.parametrize("key, value", [
    ("STORAGE_PRESIGNED_SECONDS", 0), ("STORAGE_PRESIGNED_SECONDS", "a minute"),
    ("STORAGE_PRESIGNED_SECONDS", 8 * 24 * 3600), ("S3_ENDPOINT_URL", "minio:9000"),
])
def test_malformed_storage_settings_stop_the_start(app, key, value, monkeypatch):
    monkeypatch.setitem(app.config, key, value)
    with pytest.raises(storage.StorageConfigurationError):
        storage.check_configuration(app)


def test_create_app_checks_the_storage_configuration(tmp_path):
    from app import create_app

    with pytest.raises(storage.StorageConfigurationError):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "TESTING": True,
                    "STORAGE_URL": "s3://Not A Bucket"})


def _stored_files(root: str) -> set[str]:
    return {os.path.join(d, f) for d, _dirs, files in os.walk(root) for f in files}


def test_a_failed_upload_keeps_the_original_error_when_the_cleanup_fails_too(app, setup, monkeypatch):
    """The store is down after the save: the database error is what the caller sees."""
    backend = storage.LocalStorage(app.config["UPLOAD_FOLDER"])
    before = _stored_files(backend.root)
    monkeypatch.setattr(storage, "get_storage", lambda app=None: backend)

    def no_delete(name):
        raise OSError("store unreachable")

    def broken_commit():
        raise RuntimeError("database down")

    with monkeypatch.context() as patch:
        patch.setattr(backend, "delete", no_delete)
        patch.setattr(db.session, "commit", broken_commit)
        with pytest.raises(RuntimeError, match="database down"):
            uploads.attach("Application", setup["app"].id, "document", fs(PDF, "a.pdf"), setup["user"])
    db.session.rollback()
    assert db.session.query(Attachment).count() == 0
    for orphan in _stored_files(backend.root) - before:  # what the failed cleanup left
        os.remove(orphan)
    with pytest.raises(ValidationFailed):
        uploads.attach("Application", setup["app"].id, "document", fs(b"", "a.pdf"), setup["user"])
