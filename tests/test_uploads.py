"""The upload service and routes (SPEC C2, D3, D10; DESIGN "Security traps": uploads).

Every refusal leaves neither a file in UPLOAD_FOLDER nor a row; messages are the catalogue's
(compared through gettext so that the test holds in every language)."""
from __future__ import annotations

import io
import os
import struct
import zlib

import pytest
from flask_babel import gettext
from PIL import Image
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import Application, Attachment
from app.services import predeclarations, uploads
from app.services.exceptions import DomainError, NotFound

MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00\x00\x00\x08free" + b"\x00" * 32
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def image_bytes(fmt: str = "JPEG", size=(32, 24)) -> bytes:
    out = io.BytesIO()
    image = Image.effect_noise(size, 64).convert("RGB")
    image.save(out, fmt, quality=90) if fmt == "JPEG" else image.save(out, fmt)
    return out.getvalue()


JPEG = image_bytes("JPEG")
PNG = image_bytes("PNG")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png() -> bytes:
    """A tiny PNG that declares 100000 × 100000 pixels."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + _chunk(b"IEND", b""))


def stored_files(app) -> set[str]:
    root = app.config["UPLOAD_FOLDER"]
    return {os.path.join(d, f) for d, _dirs, files in os.walk(root) for f in files}


def fs(data: bytes, name: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


@pytest.fixture
def setup(make_mine, make_user):
    """A draft pre-declaration of an underground mine in 小店区, its enterprise user, and a draft
    application of the same enterprise."""
    mine = make_mine("140105", mining_method="underground")
    user = make_user("enterprise", enterprise=mine.enterprise)
    record = predeclarations.create(user, mine, 2026)
    application = Application(
        predeclaration_id=record.id, enterprise_id=mine.enterprise_id, mine_id=mine.id, region_code="140105",
        year=2026, enterprise_name=mine.enterprise.name, mine_name=mine.name, licence_no=mine.licence_no,
        uscc=mine.enterprise.uscc,
    )
    db.session.add(application)
    db.session.commit()
    return {"mine": mine, "user": user, "pd": record, "app": application}


def refused(app, owner_type, owner_id, where, data, filename, user, msgid, **params):
    before = stored_files(app)
    rows = db.session.query(Attachment).count()
    with pytest.raises(DomainError) as info:
        uploads.attach(owner_type, owner_id, where, fs(data, filename), user)
    if msgid is not None:
        assert str(info.value) == gettext(msgid, **params)
    assert str(info.value)
    assert stored_files(app) == before
    assert db.session.query(Attachment).count() == rows
    return info.value


TYPE_IMAGES = "This file type is not accepted here: only %(kinds)s files (the content is checked, not the name)."


def _kinds(*kinds):
    return "、".join(str(uploads.KIND_LABELS[k]) for k in kinds)


@pytest.mark.parametrize("data, name, msgid, params", [
    (b"GIF89a" + b"\x00" * 40, "a.jpg", TYPE_IMAGES, {"kinds": _kinds} ),                      # wrong magic
    (JPEG, "photo.jpg.exe", None, {}),                                                         # double extension
    (JPEG, "photo.exe.jpg", "The file name “%(name)s” has a double extension; rename the file.",
     {"name": "photo.exe.jpg"}),
    (b"", "empty.jpg", "The file is empty.", {}),
    (JPEG, "../../x.jpg", "The file name is not allowed: it contains a path.", {}),
    (JPEG, "x\x00.jpg", "The file name is not allowed: it contains control characters.", {}),
    (JPEG, "a\u202egpj.exe", "The file name is not allowed: it contains control characters.", {}),
    (b"<html><script>alert(1)</script></html>", "x.jpg", TYPE_IMAGES, {"kinds": _kinds}),     # HTML as JPEG
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "x.png", TYPE_IMAGES,
     {"kinds": _kinds}),                                                                       # SVG as PNG
    (bomb_png(), "bomb.png", "The image has too many pixels (at most %(max)s megapixels).", {"max": 40}),
    (PDF, "scan.jpg", TYPE_IMAGES, {"kinds": _kinds}),                                         # PDF, image name
    (JPEG[: len(JPEG) * 2 // 3], "cut.jpg", "The image could not be read: the file is damaged or incomplete.", {}),
    (PNG[:-30], "cut.png", "The image could not be read: the file is damaged or incomplete.", {}),
    (PNG, "photo.jpg", "The file name “%(name)s” does not match its content (%(kind)s).",
     {"name": "photo.jpg", "kind": None}),                                                    # PNG named .jpg
    (MP4, "clip.mp4", TYPE_IMAGES, {"kinds": _kinds}),                                         # video as photo
    (JPEG, "noextension", "The file name must end with the file type, such as .jpg or .pdf.", {}),
])
def test_bad_photo_uploads_are_refused(app, setup, data, name, msgid, params):
    params = dict(params)
    if params.get("kinds") is _kinds:
        params["kinds"] = _kinds("image")
    if "kind" in params:
        params["kind"] = uploads.KIND_LABELS["image"]
    refused(app, "PreDeclaration", setup["pd"].id, "3", data, name, setup["user"], msgid, **params)


def test_a_pdf_named_jpg_in_the_document_slot_does_not_match(app, setup):
    refused(app, "Application", setup["app"].id, "document", PDF, "scan.jpg", setup["user"],
            "The file name “%(name)s” does not match its content (%(kind)s).", name="scan.jpg",
            kind=uploads.KIND_LABELS["pdf"])


def test_sizes_per_kind(app, setup, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_IMAGE_MAX_BYTES", 1000)
    monkeypatch.setitem(app.config, "UPLOAD_PDF_MAX_BYTES", 2000)
    monkeypatch.setitem(app.config, "UPLOAD_VIDEO_MAX_BYTES", 3000)
    user, application = setup["user"], setup["app"]
    big_jpeg = image_bytes("JPEG", (200, 200))
    assert len(big_jpeg) > 1000
    refused(app, "PreDeclaration", setup["pd"].id, "3", big_jpeg, "big.jpg", user,
            "The file is larger than the allowed %(size)s.", size="1000 B")
    refused(app, "Application", application.id, "document", PDF + b"0" * 2000, "big.pdf", user,
            "The file is larger than the allowed %(size)s.", size="2 KB")
    refused(app, "Application", application.id, "video", MP4 + b"\x00" * 3000, "big.mp4", user,
            "The file is larger than the allowed %(size)s.", size="3 KB")
    # A stream that cannot tell its length is cut off while streaming, past the limit.

    class Pipe(io.RawIOBase):
        def __init__(self, data):
            self.data = io.BytesIO(data)

        def readable(self):
            return True

        def read(self, size=-1):
            return self.data.read(size)

        def seek(self, *args):
            raise io.UnsupportedOperation()

    before = stored_files(app)
    with pytest.raises(DomainError):
        uploads.attach("Application", application.id, "video",
                       FileStorage(stream=Pipe(MP4 + b"\x00" * 5000), filename="pipe.mp4"), user)
    assert stored_files(app) == before and db.session.query(Attachment).count() == 0
    assert uploads.attach("Application", application.id, "video", fs(MP4, "ok.mp4"), user).size_bytes == len(MP4)


def test_the_request_limit_refuses_a_body_larger_than_the_largest_file(app, setup, browser, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_VIDEO_MAX_BYTES", 1000)
    before = stored_files(app)
    response = browser(setup["user"]).post(
        f"/attachments/Application/{setup['app'].id}/video",
        data={"file": (io.BytesIO(MP4 + b"\x00" * 200_000), "big.mp4")}, content_type="multipart/form-data")
    assert response.status_code == 413
    assert stored_files(app) == before and db.session.query(Attachment).count() == 0


def test_one_too_many(app, setup, monkeypatch):
    user, application, record = setup["user"], setup["app"], setup["pd"]
    for n in range(10):
        uploads.attach("Application", application.id, "document", fs(PDF, f"文件{n}.pdf"), user)
    refused(app, "Application", application.id, "document", JPEG, "eleventh.jpg", user,
            "At most %(max)s files may be uploaded here; remove one first.", max=10)
    for n in range(5):
        uploads.attach("Application", application.id, "video", fs(MP4, f"视频{n}.mp4"), user)
    refused(app, "Application", application.id, "video", MP4, "sixth.mp4", user,
            "At most %(max)s files may be uploaded here; remove one first.", max=5)
    # Checklist item 2 (矿区整体实景图) takes at most 2 photos.
    for n in range(2):
        uploads.attach("PreDeclaration", record.id, "2", fs(JPEG, f"全景{n}.jpg"), user)
    refused(app, "PreDeclaration", record.id, "2", JPEG, "third.jpg", user,
            "At most %(max)s files may be uploaded here; remove one first.", max=2)


def test_unknown_slot_wrong_slot_kind_and_unknown_owner(app, setup):
    user = setup["user"]
    refused(app, "PreDeclaration", setup["pd"].id, "9", JPEG, "a.jpg", user,
            "“%(slot)s” is not a place for files on this record.", slot="9")
    # Item 7 is for open-pit mines: this one is underground.
    refused(app, "PreDeclaration", setup["pd"].id, "7", JPEG, "a.jpg", user,
            "“%(slot)s” is not a place for files on this record.", slot="7")
    refused(app, "Application", setup["app"].id, "document", MP4, "clip.mp4", user, TYPE_IMAGES,
            kinds=_kinds("image", "pdf"))
    refused(app, "Application", setup["app"].id, "video", PDF, "a.pdf", user, TYPE_IMAGES, kinds=_kinds("video"))
    err = refused(app, "Mine", setup["mine"].id, "x", JPEG, "a.jpg", user, None)
    assert isinstance(err, NotFound)


def test_evidence_only_after_submission(app, setup, make_user):
    from app.models import IndicatorEvidence, IndicatorItem, IndicatorVersion

    item = db.session.query(IndicatorItem).first()
    if item is None:
        version = IndicatorVersion(code="t-uploads", name="t", total_points=100)
        item = IndicatorItem(version=version, code="1", level=1, name="t")
        db.session.add_all([version, item])
        db.session.commit()
    evidence = IndicatorEvidence(application_id=setup["app"].id, item_id=item.id)
    db.session.add(evidence)
    db.session.commit()
    refused(app, "IndicatorEvidence", evidence.id, "evidence", PDF, "a.pdf", setup["user"],
            "Indicator evidence can be added and replaced from the application's submission until the agency "
            "submits its assessment; after that it is kept as it was.")
    if item.version.code == "t-uploads":
        db.session.delete(evidence)
        db.session.delete(item)
        db.session.delete(item.version)
        db.session.commit()


def test_upload_to_another_enterprises_or_countys_record_is_404(app, setup, make_mine, make_user, browser):
    other = make_user("enterprise", enterprise=make_mine("140105").enterprise)
    before = stored_files(app)
    response = browser(other).post(f"/attachments/PreDeclaration/{setup['pd'].id}/3",
                                   data={"file": (io.BytesIO(JPEG), "a.jpg")}, content_type="multipart/form-data")
    assert response.status_code == 404
    neighbour = make_mine("140121", mining_method="open_pit")
    neighbour_user = make_user("enterprise", enterprise=neighbour.enterprise)
    neighbour_pd = predeclarations.create(neighbour_user, neighbour, 2026)
    response = browser(setup["user"]).post(f"/attachments/PreDeclaration/{neighbour_pd.id}/3",
                                           data={"file": (io.BytesIO(JPEG), "a.jpg")},
                                           content_type="multipart/form-data")
    assert response.status_code == 404
    assert stored_files(app) == before and db.session.query(Attachment).count() == 0
    # Staff upload only onto their notices, never onto an enterprise's record in their region.
    county = make_user("county", region="140105")
    response = browser(county).post(f"/attachments/PreDeclaration/{setup['pd'].id}/3",
                                    data={"file": (io.BytesIO(JPEG), "a.jpg")}, content_type="multipart/form-data")
    assert response.status_code == 403
    assert stored_files(app) == before and db.session.query(Attachment).count() == 0


def test_good_uploads_downloads_and_scope(app, setup, browser, make_mine, make_user):
    user, record, application = setup["user"], setup["pd"], setup["app"]
    client = browser(user)
    show = f"/predeclarationview/show/{record.id}"
    response = client.post(f"/attachments/PreDeclaration/{record.id}/3",
                           data={"file": (io.BytesIO(JPEG), "办公区大门.JPG"), "next": show},
                           content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"].endswith(show)
    photo = db.session.query(Attachment).one()
    assert (photo.original_name, photo.kind, photo.content_type, photo.size_bytes) == (
        "办公区大门.JPG", "image", "image/jpeg", len(JPEG))
    assert "/" in photo.stored_name and "办公" not in photo.stored_name
    png = uploads.attach("PreDeclaration", record.id, "4", fs(PNG, "食堂.png"), user)
    pdf = uploads.attach("Application", application.id, "document", fs(PDF, "自评报告.pdf"), user)
    video = uploads.attach("Application", application.id, "video", fs(MP4, "矿区航拍.mp4"), user)
    assert (png.content_type, pdf.kind, video.kind) == ("image/png", "pdf", "video")
    # An open redirect is not followed.
    response = client.post(f"/attachments/PreDeclaration/{record.id}/3",
                           data={"file": (io.BytesIO(JPEG), "b.jpg"), "next": "https://evil.example/x"},
                           content_type="multipart/form-data")
    assert "evil.example" not in response.headers["Location"]

    response = client.get(f"/attachments/{photo.id}")
    assert response.status_code == 200 and response.data == JPEG
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in response.headers["Cache-Control"]
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "UTF-8''%E5%8A%9E%E5%85%AC" in disposition
    response = client.get(f"/attachments/{video.id}")
    assert response.data == MP4 and response.headers["Content-Type"] == "video/mp4"

    # Staff in scope read; the neighbouring county and another enterprise get 404; anonymous the login.
    for staff in (make_user("county", region="140105"), make_user("city", region="140100"),
                  make_user("province", region="140000"), make_user("national")):
        assert browser(staff).get(f"/attachments/{pdf.id}").status_code == 200, staff.username
    assert browser(make_user("county", region="140121")).get(f"/attachments/{photo.id}").status_code == 404
    other = make_user("enterprise", enterprise=make_mine("140105").enterprise)
    assert browser(other).get(f"/attachments/{photo.id}").status_code == 404
    assert browser(other).get("/attachments/999999").status_code == 404
    response = browser().get(f"/attachments/{photo.id}")
    assert response.status_code == 302 and "login" in response.headers["Location"]
    # The detail page lists the photo with its download link.
    page = client.get(show).get_data(as_text=True)
    assert "办公区大门.JPG" in page and f"/attachments/{photo.id}" in page


def test_removal_only_while_editable_and_only_in_scope(app, setup, browser, make_mine, make_user):
    from tests.test_photo_checklist import fill_checklist

    user, record = setup["user"], setup["pd"]
    photo = uploads.attach("PreDeclaration", record.id, "3", fs(JPEG, "a.jpg"), user)
    path = os.path.join(app.config["UPLOAD_FOLDER"], *photo.stored_name.split("/"))
    assert os.path.exists(path)
    other = make_user("enterprise", enterprise=make_mine("140105").enterprise)
    assert browser(other).post(f"/attachments/{photo.id}/delete").status_code == 404
    response = browser(user).post(f"/attachments/{photo.id}/delete", data={"next": "/"})
    assert response.status_code == 302
    assert db.session.query(Attachment).count() == 0 and not os.path.exists(path)

    from app.services import workflow

    fill_checklist(record, user)
    workflow.transition(record, "submit", user)
    kept = uploads.attachments_of("PreDeclaration", record.id)[0]
    with pytest.raises(DomainError) as info:
        uploads.remove(kept.id, user)
    assert str(info.value) == gettext("Files can no longer be changed: the record is “%(state)s”.",
                                      state=record.status_label)
    assert db.session.get(Attachment, kept.id) is not None
    refused(app, "PreDeclaration", record.id, "3", JPEG, "late.jpg", user,
            "Files can no longer be changed: the record is “%(state)s”.", state=record.status_label)


def test_a_failed_insert_leaves_no_file(app, setup, monkeypatch):
    before = stored_files(app)

    def broken_commit():
        raise RuntimeError("database down")

    monkeypatch.setattr(db.session, "commit", broken_commit)
    with pytest.raises(RuntimeError):
        uploads.attach("PreDeclaration", setup["pd"].id, "3", fs(JPEG, "a.jpg"), setup["user"])
    monkeypatch.undo()
    assert stored_files(app) == before and db.session.query(Attachment).count() == 0


def test_long_names_are_cut_and_chinese_kept():
    name = "矿" * 300 + ".jpg"
    cleaned = uploads.clean_name(name)
    assert len(cleaned) == 255 and cleaned.endswith(".jpg")
    assert uploads.clean_name("2024.05 办公区（正门）.jpg") == "2024.05 办公区（正门）.jpg"
