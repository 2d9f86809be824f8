"""One upload service for every owner record (SPEC C2, D3, D10; DESIGN "Security traps").

- The type is found by content (magic bytes), never by name; images are opened with Pillow
  (pixel limit, ``verify`` and a full decode) so that bombs and truncated files are refused.
- The declared name must fit the content (a PDF named .jpg is refused), and is kept only for
  display and Content-Disposition; the bytes are stored under a generated name
  (app.services.storage).
- What may be attached where is data: ``POLICIES`` maps an owner type to its model, slots
  (kinds and maximum count), and an ``editable(record)`` predicate. Access always goes through
  the owner record's scope; an unknown owner type is refused.
- A refused or failed upload leaves neither a file nor a row.

Configuration keys (read with defaults; see ``DEFAULTS``):
  UPLOAD_IMAGE_MAX_BYTES (10 MB), UPLOAD_PDF_MAX_BYTES (10 MB), UPLOAD_VIDEO_MAX_BYTES (100 MB),
  UPLOAD_MAX_IMAGE_PIXELS (40 megapixels), UPLOAD_APPLICATION_MAX_DOCUMENTS (10),
  UPLOAD_APPLICATION_MAX_VIDEOS (5), UPLOAD_EVIDENCE_MAX_FILES (10), UPLOAD_NOTICE_MAX_FILES (5).
"""
from __future__ import annotations

import datetime
import io
import os
import shutil
import tempfile
import unicodedata
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, Iterator, Optional

from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import lazyload

from app.extensions import db
from app.services import audit, scoping, storage
from app.services.exceptions import AccessDenied, DomainError, NotFound, ValidationFailed

MB = 1024 * 1024
DEFAULTS: dict[str, int] = {
    "UPLOAD_IMAGE_MAX_BYTES": 10 * MB,
    "UPLOAD_PDF_MAX_BYTES": 10 * MB,
    "UPLOAD_VIDEO_MAX_BYTES": 100 * MB,
    "UPLOAD_MAX_IMAGE_PIXELS": 40_000_000,
    "UPLOAD_APPLICATION_MAX_DOCUMENTS": 10,
    "UPLOAD_APPLICATION_MAX_VIDEOS": 5,
    "UPLOAD_EVIDENCE_MAX_FILES": 10,
    "UPLOAD_NOTICE_MAX_FILES": 5,
}
# The request limit of the upload route (app/__init__.py _UPLOAD_LIMITS): the largest file.
REQUEST_LIMIT_KEY = "UPLOAD_VIDEO_MAX_BYTES"
HEAD_BYTES = 64
NAME_MAX = 255

IMAGE, PDF, VIDEO = "image", "pdf", "video"
KIND_LABELS = {
    IMAGE: _l("image (JPEG or PNG)"),
    PDF: _l("PDF document"),
    VIDEO: _l("MP4 video"),
}
KIND_SIZE_KEYS = {IMAGE: "UPLOAD_IMAGE_MAX_BYTES", PDF: "UPLOAD_PDF_MAX_BYTES", VIDEO: "UPLOAD_VIDEO_MAX_BYTES"}
# content type -> (kind, extensions that may name it)
CONTENT_TYPES = {
    "image/jpeg": (IMAGE, (".jpg", ".jpeg", ".jpe")),
    "image/png": (IMAGE, (".png",)),
    "application/pdf": (PDF, (".pdf",)),
    "video/mp4": (VIDEO, (".mp4", ".m4v")),
}
MP4_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1",
    b"M4V ", b"M4VH", b"M4VP", b"mmp4", b"MSNV", b"dash",
}
# A name whose inner part ends like one of these is a double extension ("photo.jpg.exe",
# "report.exe.pdf").
_KNOWN_EXTENSIONS = {
    "exe", "com", "bat", "cmd", "scr", "pif", "msi", "dll", "js", "jse", "vbs", "vbe", "wsf", "ps1",
    "sh", "php", "phtml", "asp", "aspx", "jsp", "cgi", "pl", "py", "html", "htm", "xhtml", "svg",
    "svgz", "xml", "hta", "jar", "apk", "lnk", "reg", "zip", "rar", "7z", "gz", "tar",
    "jpg", "jpeg", "jpe", "png", "gif", "bmp", "webp", "tif", "tiff", "pdf", "mp4", "m4v", "mov",
    "avi", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt",
}


def config(key: str) -> int:
    return int(current_app.config.get(key, DEFAULTS[key]))


def size_text(size: int) -> str:
    if size >= MB:
        return f"{size / MB:.0f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} B"


# ---------------------------------------------------------------------------
# Owner policies
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SlotRule:
    kinds: frozenset[str]
    max_count: int
    label: str = ""


@dataclass(frozen=True)
class OwnerPolicy:
    model_path: str  # "module:Class", resolved lazily
    slots: Callable[[Any], dict[str, SlotRule]]  # owner -> slot rules
    editable: Callable[[Any], bool]
    not_editable: Callable[[Any], str]  # owner -> translated reason
    # The roles that may add and remove files here (the permission can_upload only opens the
    # route; this decides on which records).
    uploader_roles: frozenset[str] = frozenset({"enterprise"})
    # Who may read (download) the files, where it is wider than who may edit the owner: a
    # notice is managed by its region's authority but read by everyone below it.
    readable: Optional[Callable[[Any, Any], bool]] = None
    # (owner, slot) -> whether that slot's files may be added or removed in the owner's present
    # state, where the slots open at different steps (a spot check's record, then its re-check);
    # None: every slot while ``editable``.
    slot_open: Optional[Callable[[Any, str], bool]] = None

    @property
    def model(self) -> type:
        module, cls = self.model_path.split(":")
        return getattr(__import__(module, fromlist=[cls]), cls)


def _predeclaration_slots(owner) -> dict[str, SlotRule]:
    from app.services import photo_checklist

    return {
        item.code: SlotRule(frozenset({IMAGE}), item.max_count, f"{item.code} {item.name}")
        for item in photo_checklist.items_for(owner)
    }


def _document_and_video_slots() -> dict[str, SlotRule]:
    return {
        "document": SlotRule(frozenset({PDF, IMAGE}), config("UPLOAD_APPLICATION_MAX_DOCUMENTS"),
                             str(_l("Documents and images"))),
        "video": SlotRule(frozenset({VIDEO}), config("UPLOAD_APPLICATION_MAX_VIDEOS"), str(_l("Videos"))),
    }


def _application_slots(owner) -> dict[str, SlotRule]:
    """The self-evaluation report the reviewers read (required for submission by default:
    APPLICATION_REQUIRED_MATERIALS), the other documents and images, the videos (D3)."""
    return {
        "self_evaluation_report": SlotRule(frozenset({PDF}), _evaluation_max_files(),
                                           str(_l("Self-evaluation report"))),
        **_document_and_video_slots(),
    }


def _spot_check_slots(owner) -> dict[str, SlotRule]:
    """The on-site check's photos and video (the application's limits), and the same again for
    the re-check of a rectification."""
    slots = _document_and_video_slots()
    slots.update({
        "recheck_document": SlotRule(frozenset({PDF, IMAGE}), config("UPLOAD_APPLICATION_MAX_DOCUMENTS"),
                                     str(_l("Photos of the re-check"))),
        "recheck_video": SlotRule(frozenset({VIDEO}), config("UPLOAD_APPLICATION_MAX_VIDEOS"),
                                  str(_l("Videos of the re-check"))),
    })
    return slots


def _spot_check_slot_open(owner, slot: str) -> bool:
    """The record's files until it is submitted; the re-check's while the rectification is under
    way, until the re-check is submitted. A submitted stage's files stay as they were."""
    return owner.status == ("rectifying" if slot.startswith("recheck_") else "assigned")


def _evidence_slots(owner) -> dict[str, SlotRule]:
    return {"evidence": SlotRule(frozenset({PDF, IMAGE}), config("UPLOAD_EVIDENCE_MAX_FILES"),
                                 str(_l("Evidence")))}


def _state_refusal(owner) -> str:
    return _("Files can no longer be changed: the record is “%(state)s”.", state=owner.status_label)


def _evidence_editable(owner) -> bool:
    from app.services import applications

    return applications.evidence_open(owner.application)


def _notice_slots(owner) -> dict[str, SlotRule]:
    return {"document": SlotRule(frozenset({PDF, IMAGE}), config("UPLOAD_NOTICE_MAX_FILES"),
                                 str(_l("Attachments")))}


def _fraud_finding_recording(owner) -> bool:
    from app.services import fraud

    return fraud.is_being_recorded(owner)


def _fraud_finding_readable(owner, user) -> bool:
    from app.services import fraud

    return fraud.may_read(user, owner)


def _notice_readable(owner, user) -> bool:
    from app.services import notices

    return notices.is_visible(owner, user)


def _objection_evidence_readable(owner, user) -> bool:
    from app.services import public_notices

    return public_notices.may_see_objector(user, owner)


def _evidence_refusal(owner) -> str:
    from app.services import applications

    return applications.evidence_closed_message()


def _evaluation_max_files() -> int:
    return int(current_app.config.get("UPLOAD_EVALUATION_MAX_FILES", 5))


def _self_evaluation_slots(owner) -> dict[str, SlotRule]:
    return {"report": SlotRule(frozenset({PDF}), _evaluation_max_files(), str(_l("Self-evaluation report")))}


def _assessment_slots(owner) -> dict[str, SlotRule]:
    return {
        "report": SlotRule(frozenset({PDF}), _evaluation_max_files(), str(_l("Assessment report"))),
        "onsite_record": SlotRule(frozenset({PDF, IMAGE}), _evaluation_max_files(),
                                  str(_l("On-site assessment record"))),
    }


def _evaluation_refusal(owner) -> str:
    application = getattr(owner, "application", None) or owner
    return _("Files can no longer be changed: the record is “%(state)s”.", state=application.status_label)


def _certification_slots(owner) -> dict[str, SlotRule]:
    """Seed 002 §四: the self-evaluation report, the work atlas and the supporting documents
    (licences, reports and approvals, rules, awards, patents); and the evidence of a
    rectification the body asked for."""
    documents = config("UPLOAD_APPLICATION_MAX_DOCUMENTS")
    return {
        "self_evaluation_report": SlotRule(frozenset({PDF}), _evaluation_max_files(),
                                           str(_l("Certification self-evaluation report"))),
        "atlas": SlotRule(frozenset({PDF, IMAGE}), documents, str(_l("Green-mine work atlas"))),
        "supporting": SlotRule(frozenset({PDF, IMAGE}), documents, str(_l("Supporting documents"))),
        "rectification": SlotRule(frozenset({PDF, IMAGE}), documents, str(_l("Rectification evidence"))),
    }


def _certification_slot_open(owner, slot: str) -> bool:
    """The application's materials while it may change; the rectification's while it is under way."""
    if slot == "rectification":
        return owner.status == "rectifying"
    return owner.status in ("draft", "returned")


def _certification_evaluation_slots(owner) -> dict[str, SlotRule]:
    return {
        "evaluation_report": SlotRule(frozenset({PDF}), _evaluation_max_files(),
                                      str(_l("Certification evaluation report"))),
        "onsite_record": SlotRule(frozenset({PDF, IMAGE}), _evaluation_max_files(),
                                  str(_l("On-site evaluation record"))),
    }


POLICIES: dict[str, OwnerPolicy] = {
    "PreDeclaration": OwnerPolicy(
        "app.models.predeclaration:PreDeclaration", _predeclaration_slots,
        lambda owner: owner.status == "draft", _state_refusal,
    ),
    "Application": OwnerPolicy(
        "app.models.application:Application", _application_slots,
        lambda owner: owner.status in ("draft", "returned"), _state_refusal,
    ),
    "IndicatorEvidence": OwnerPolicy(
        "app.models.indicator:IndicatorEvidence", _evidence_slots, _evidence_editable, _evidence_refusal,
    ),
    # The demonstration zone's construction plan (E8), while the application may change.
    "DemoZoneApplication": OwnerPolicy(
        "app.models.demozone:DemoZoneApplication",
        lambda owner: {"plan": SlotRule(frozenset({PDF}), 3, str(_l("Construction plan")))},
        lambda owner: owner.status in ("draft", "returned"), _state_refusal,
        uploader_roles=frozenset({"county", "enterprise"}),
    ),
    # The enterprise's self-evaluation report (SPEC E2), while it scores (accepted).
    "SelfEvaluation": OwnerPolicy(
        "app.models.application:Application", _self_evaluation_slots,
        lambda owner: owner.status == "accepted", _evaluation_refusal,
    ),
    # The drawn agency's assessment report and on-site record (SPEC E3), while it assesses.
    "AgencyAssignment": OwnerPolicy(
        "app.models.evaluation:AgencyAssignment", _assessment_slots,
        lambda owner: owner.application is not None and owner.application.status == "under_assessment",
        _evaluation_refusal, uploader_roles=frozenset({"agency"}),
    ),
    # The enterprise's evidence for its yearly self-check (H1), until it is submitted.
    "SelfCheck": OwnerPolicy(
        "app.models.spotcheck:SelfCheck", _evidence_slots,
        lambda owner: owner.status in ("draft", "returned"), _state_refusal,
    ),
    # The team's photos and video of the on-site check (H4), the application's limits, until
    # the record is submitted; those of the re-check while the mine rectifies (H5).
    "SpotCheck": OwnerPolicy(
        "app.models.spotcheck:SpotCheck", _spot_check_slots,
        lambda owner: owner.status in ("assigned", "rectifying"), _state_refusal,
        uploader_roles=frozenset({"inspector"}), slot_open=_spot_check_slot_open,
    ),
    # Certification (SPEC G1, G2): the enterprise's materials, and the body's evaluation report and
    # on-site record while it evaluates.
    "CertificationApplication": OwnerPolicy(
        "app.models.certification:CertificationApplication", _certification_slots,
        lambda owner: owner.status in ("draft", "returned", "rectifying"), _state_refusal,
        slot_open=_certification_slot_open,
    ),
    "CertificationEvaluation": OwnerPolicy(
        "app.models.certification:CertificationApplication", _certification_evaluation_slots,
        lambda owner: owner.status == "under_evaluation", _state_refusal, uploader_roles=frozenset({"certifier"}),
    ),
    # The surveillance audit's report and on-site record (G4), until its outcome is decided.
    "SurveillanceAudit": OwnerPolicy(
        "app.models.certification:SurveillanceAudit",
        lambda owner: {
            "report": SlotRule(frozenset({PDF}), _evaluation_max_files(), str(_l("Surveillance audit report"))),
            "onsite_record": SlotRule(frozenset({PDF, IMAGE}), _evaluation_max_files(),
                                      str(_l("On-site evaluation record"))),
        },
        lambda owner: owner.status == "planned", _state_refusal, uploader_roles=frozenset({"certifier"}),
    ),
    # A finding of falsified materials' decision document (app.services.fraud): added only while
    # the finding is recorded, kept as recorded; read by the province and the national level.
    "FraudFinding": OwnerPolicy(
        "app.models.fraud:FraudFinding",
        lambda owner: {"document": SlotRule(frozenset({PDF}), 1, str(_l("Decision document (PDF)")))},
        _fraud_finding_recording, lambda owner: str(_l("A recorded finding is kept as recorded.")),
        uploader_roles=frozenset({"national", "province"}), readable=_fraud_finding_readable,
    ),
    # Its authority may change a notice's files at any time; readers download them.
    "Notice": OwnerPolicy(
        "app.models.notice:Notice", _notice_slots, lambda owner: True, _state_refusal,
        uploader_roles=frozenset({"admin", "national", "province", "city", "county"}), readable=_notice_readable,
    ),
    # The evidence sent with an objection on the public form (issue 19.3,
    # app.services.public_notices): stored with the objection, never added or removed afterwards;
    # read by the province and the national level only (it may name the objector).
    "Objection": OwnerPolicy(
        "app.models.review:Objection", _evidence_slots, lambda owner: False,
        lambda owner: _("The evidence of an objection is kept as it was sent."),
        uploader_roles=frozenset(), readable=_objection_evidence_readable,
    ),
}


def policy_of(owner_type: str) -> OwnerPolicy:
    """Deny by default: an owner type that is not declared here does not exist."""
    policy = POLICIES.get(owner_type) if isinstance(owner_type, str) else None
    if policy is None:
        raise NotFound(_("The record does not exist."))
    return policy


def load_owner(owner_type: str, owner_id: int, user, action: str = scoping.READ, lock: bool = False):
    """The owner record, if it exists and ``user`` may reach it; NotFound otherwise (out of
    scope is indistinguishable from absent)."""
    policy = policy_of(owner_type)
    model = policy.model
    try:
        owner_id = int(owner_id)
    except (TypeError, ValueError):
        raise NotFound(_("The record does not exist."))
    if lock and db.session.get_bind().dialect.name == "postgresql":
        query = (select(model).filter_by(id=owner_id).options(lazyload("*"))
                 .with_for_update(of=model).execution_options(populate_existing=True))
        owner = db.session.execute(query).scalar_one_or_none()
    else:
        owner = db.session.get(model, owner_id)
    if owner is None:
        raise NotFound(_("The record does not exist."))
    if action == scoping.EDIT and not any(role.name in policy.uploader_roles for role in getattr(user, "roles", ())):
        raise AccessDenied(_("Your role may not add or remove files here."))
    if action in (scoping.READ, scoping.DOWNLOAD) and policy.readable is not None:
        if not policy.readable(owner, user):
            raise NotFound(_("The record does not exist."))
        return owner
    try:
        scoping.check_access(user, owner, action)
    except AccessDenied:
        raise NotFound(_("The record does not exist."))
    return owner


def is_editable(owner_type: str, owner) -> bool:
    return policy_of(owner_type).editable(owner)


def may_upload(owner_type: str, owner, user, slot: Optional[str] = None) -> bool:
    """Whether the page should offer ``user`` the upload and remove buttons on ``owner`` (on its
    ``slot``): the same checks ``attach`` makes (state, role, scope); the route's permission
    aside."""
    policy = policy_of(owner_type)
    return (policy.editable(owner)
            and (slot is None or policy.slot_open is None or policy.slot_open(owner, slot))
            and any(role.name in policy.uploader_roles for role in getattr(user, "roles", ()))
            and scoping.can_access(user, owner, scoping.EDIT))


def slots_of(owner_type: str, owner) -> dict[str, SlotRule]:
    return policy_of(owner_type).slots(owner)


def slot_label(owner_type: Optional[str], slot: str) -> str:
    """A slot by its label, for a record of ``owner_type`` in general (the logs); the slot's code
    where the owner's slots depend on the owner itself."""
    try:
        rule = slots_of(owner_type or "", None).get(slot)
    except (DomainError, AttributeError, TypeError, KeyError):
        rule = None
    return rule.label if rule is not None and rule.label else slot


# ---------------------------------------------------------------------------
# Required materials: what a record cannot be submitted without (SPEC D3, G1; seed 002 §四)
# ---------------------------------------------------------------------------
# owner type -> (configuration key, default slots). The slots must be the owner's own.
REQUIRED_MATERIALS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Application": ("APPLICATION_REQUIRED_MATERIALS", ("self_evaluation_report",)),
    "CertificationApplication": ("CERTIFICATION_REQUIRED_MATERIALS",
                                 ("self_evaluation_report", "atlas", "supporting")),
}


def required_slots(owner_type: str, app=None) -> tuple[str, ...]:
    """The slots of ``owner_type`` that need at least one file before submission, as configured."""
    key, default = REQUIRED_MATERIALS[owner_type]
    value = (app or current_app).config.get(key, default)
    if isinstance(value, str):
        value = (value,)
    return tuple(value or ())


def check_required_materials_configuration(app) -> None:
    """Refuse to start when a required-materials setting names a slot its owner does not have
    (a typo would otherwise refuse every submission, or require nothing). In an app context."""
    for owner_type, (key, _default) in REQUIRED_MATERIALS.items():
        slots = slots_of(owner_type, None)
        unknown = [slot for slot in required_slots(owner_type, app) if slot not in slots]
        if unknown:
            raise RuntimeError(f"{key} names {', '.join(unknown)}, which is not a material slot of "
                               f"{owner_type} (its slots: {', '.join(slots)}).")


def file_counts(owner_type: str, owner_id: int) -> dict[str, int]:
    """How many files each slot of the record holds (removed files not counted)."""
    from app.models import Attachment

    rows = db.session.execute(
        select(Attachment.slot, func.count(Attachment.id))
        .where(Attachment.owner_type == owner_type, Attachment.owner_id == owner_id, Attachment.removed_at.is_(None))
        .group_by(Attachment.slot)).all()
    return {slot: count for slot, count in rows}


def missing_materials(owner_type: str, owner) -> list[str]:
    """The labels of the required slots of ``owner`` that have no file yet."""
    counts = file_counts(owner_type, owner.id) if owner.id is not None else {}
    slots = slots_of(owner_type, owner)
    return [slots[slot].label for slot in required_slots(owner_type) if not counts.get(slot)]


def missing_materials_message(labels: list[str]) -> str:
    """The refusal naming the missing materials (the submit guards' words)."""
    return _("The required materials are missing: %(materials)s. Upload them on the record's page first.",
             materials="、".join(labels))


# ---------------------------------------------------------------------------
# Names and content
# ---------------------------------------------------------------------------
def clean_name(filename: Optional[str]) -> str:
    """The original name as it may be shown: refused if it carries a path, a NUL byte or a
    control character, or hides a second extension; cut to 255 characters."""
    if not filename or not str(filename).strip():
        raise ValidationFailed(_("The file has no name."), field="file")
    name = unicodedata.normalize("NFC", str(filename)).strip()
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in name) or "\x00" in name:
        raise ValidationFailed(_("The file name is not allowed: it contains control characters."), field="file")
    if "/" in name or "\\" in name or ".." in name or ":" in name:
        raise ValidationFailed(_("The file name is not allowed: it contains a path."), field="file")
    stem, ext = os.path.splitext(name)
    if not stem.strip(" .") or not ext:
        raise ValidationFailed(_("The file name must end with the file type, such as .jpg or .pdf."), field="file")
    for part in stem.split(".")[1:]:
        if part.strip().lower() in _KNOWN_EXTENSIONS:
            raise ValidationFailed(
                _("The file name “%(name)s” has a double extension; rename the file.", name=name), field="file"
            )
    if len(name) > NAME_MAX:
        name = stem[: NAME_MAX - len(ext[:16])] + ext[:16]
    return name


def sniff(head: bytes) -> Optional[str]:
    """The content type found by magic bytes, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in MP4_BRANDS:
        box = int.from_bytes(head[0:4], "big")
        if 16 <= box <= 4096:
            return "video/mp4"
    return None


def _kinds_text(kinds) -> str:
    return "、".join(str(KIND_LABELS[k]) for k in (IMAGE, PDF, VIDEO) if k in kinds)


def check_image(handle: BinaryIO) -> None:
    """Refuse decompression bombs, damaged and truncated images."""
    from PIL import Image

    max_pixels = config("UPLOAD_MAX_IMAGE_PIXELS")
    damaged = ValidationFailed(_("The image could not be read: the file is damaged or incomplete."), field="file")
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                handle.seek(0)
                with Image.open(handle) as image:
                    width, height = image.size
                    if width * height > max_pixels:
                        raise Image.DecompressionBombError("too many pixels")
                    image.verify()
                handle.seek(0)
                with Image.open(handle) as image:
                    if image.format == "JPEG":
                        image.draft("RGB", (max(1, image.size[0] // 8), max(1, image.size[1] // 8)))
                    image.load()
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise ValidationFailed(
                    _("The image has too many pixels (at most %(max)s megapixels).", max=max_pixels // 1_000_000),
                    field="file",
                )
            except DomainError:
                raise
            except Exception:
                raise damaged
    finally:
        Image.MAX_IMAGE_PIXELS = previous


class _Chain(io.RawIOBase):
    """The bytes already read for sniffing, then the rest of the stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self.head, self.rest = head, rest

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.head:
            chunk, self.head = (self.head, b"") if size < 0 or size >= len(self.head) else (
                self.head[:size], self.head[size:])
            return chunk
        return self.rest.read(size)


def _known_size(stream: BinaryIO) -> Optional[int]:
    """The stream's length without reading it, when it can tell (a spooled file can)."""
    try:
        position = stream.tell()
        stream.seek(0, os.SEEK_END)
        end = stream.tell()
        stream.seek(position)
        return end - position
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


# ---------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------
def _count(owner_type: str, owner_id: int, slot: str) -> int:
    from app.models import Attachment

    return db.session.execute(
        select(func.count(Attachment.id)).where(
            Attachment.owner_type == owner_type, Attachment.owner_id == owner_id, Attachment.slot == slot,
            Attachment.removed_at.is_(None),
        )
    ).scalar_one()


def _check_slot_and_state(owner_type: str, owner, slot: str) -> SlotRule:
    policy = policy_of(owner_type)
    if not policy.editable(owner):
        raise ValidationFailed(policy.not_editable(owner))
    rule = policy.slots(owner).get(slot)
    if rule is None:
        raise ValidationFailed(_("“%(slot)s” is not a place for files on this record.", slot=slot), field="slot")
    if policy.slot_open is not None and not policy.slot_open(owner, slot):
        raise ValidationFailed(policy.not_editable(owner))
    if _count(owner_type, owner.id, slot) >= rule.max_count:
        raise ValidationFailed(
            _("At most %(max)s files may be uploaded here; remove one first.", max=rule.max_count), field="file"
        )
    return rule


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed the checks and is stored (``stored_name`` in the storage backend)."""

    original_name: str
    stored_name: str
    kind: str
    content_type: str
    size_bytes: int
    sha256: str

    def attachment(self, owner_type: str, owner_id: int, slot: str, uploaded_by_id: Optional[int]):
        from app.models import Attachment

        return Attachment(owner_type=owner_type, owner_id=owner_id, slot=slot, kind=self.kind,
                          original_name=self.original_name, stored_name=self.stored_name,
                          content_type=self.content_type, size_bytes=self.size_bytes, sha256=self.sha256,
                          uploaded_by_id=uploaded_by_id)


def store_checked(file_storage, kinds, backend=None, whole_request: bool = True) -> CheckedFile:
    """Check one uploaded file (name, size, content type of ``kinds``, images decoded) and store
    it. Raises ValidationFailed; a refused file leaves nothing stored. ``whole_request``: the
    request carries this one file (its length is checked before the body is read); a form with
    several files checks each file's own size only. The caller deletes the stored file if what
    follows fails."""
    backend = backend or storage.get_storage()
    stored: Optional[str] = None
    try:
        name = clean_name(file_storage.filename)
        allowed_max = max(config(KIND_SIZE_KEYS[k]) for k in kinds)
        # Size first, before reading the body: the request as a whole, then the stream.
        if whole_request and has_request_context() and request.content_length and request.content_length > allowed_max + 64 * 1024:
            raise ValidationFailed(_("The file is larger than the allowed %(size)s.", size=size_text(allowed_max)),
                                   field="file")
        stream = file_storage.stream
        known = _known_size(stream)
        if known is not None and known > allowed_max:
            raise ValidationFailed(_("The file is larger than the allowed %(size)s.", size=size_text(allowed_max)),
                                   field="file")
        head = stream.read(HEAD_BYTES)
        if not head:
            raise ValidationFailed(_("The file is empty."), field="file")
        content_type = sniff(head)
        if content_type is None or CONTENT_TYPES[content_type][0] not in kinds:
            raise ValidationFailed(
                _("This file type is not accepted here: only %(kinds)s files (the content is checked, not the name).",
                  kinds=_kinds_text(kinds)),
                field="file",
            )
        kind, extensions = CONTENT_TYPES[content_type]
        if os.path.splitext(name)[1].lower() not in extensions:
            raise ValidationFailed(
                _("The file name “%(name)s” does not match its content (%(kind)s).", name=name,
                  kind=KIND_LABELS[kind]),
                field="file",
            )
        max_bytes = config(KIND_SIZE_KEYS[kind])
        if known is not None and known > max_bytes:
            raise ValidationFailed(_("The file is larger than the allowed %(size)s.", size=size_text(max_bytes)),
                                   field="file")
        try:
            stored, size, digest = backend.save(_Chain(head, stream), max_bytes)
        except storage.TooLarge:
            raise ValidationFailed(_("The file is larger than the allowed %(size)s.", size=size_text(max_bytes)),
                                   field="file")
        if kind == IMAGE:
            # What was stored is what is checked (an object store's body is read back).
            with _seekable(backend.open(stored)) as handle:
                check_image(handle)
    except BaseException:
        if stored is not None:
            try:
                backend.delete(stored)
            except Exception:  # keep the original error; the orphan is only storage space
                current_app.logger.exception("could not delete stored file %s after a refused upload", stored)
        raise
    return CheckedFile(name, stored, kind, content_type, size, digest)


def attach(owner_type: str, owner_id: int, slot: str, file_storage, user, commit: bool = True):
    """Check and store one uploaded file (a werkzeug FileStorage) on the owner record.

    Raises NotFound (absent or out of scope), ValidationFailed (state, slot, count, name, size,
    type); on any refusal or failure neither a file nor a row is left.

    ``commit=False``: the file is part of the caller's transaction (a finding recorded with its
    decision document): the row is flushed, not committed; the caller commits, or rolls back and
    deletes the stored file (``discard``).
    """
    backend = storage.get_storage()
    stored: Optional[str] = None
    try:
        owner = load_owner(owner_type, owner_id, user, scoping.EDIT)
        rule = _check_slot_and_state(owner_type, owner, slot)
        if file_storage is None or not getattr(file_storage, "filename", None):
            raise ValidationFailed(_("Choose a file to upload."), field="file")
        checked = store_checked(file_storage, rule.kinds, backend)
        stored = checked.stored_name
        # Again under the owner's row lock: a submission or another upload may have come in.
        owner = load_owner(owner_type, owner.id, user, scoping.EDIT, lock=True)
        _check_slot_and_state(owner_type, owner, slot)
        attachment = checked.attachment(owner_type, owner.id, slot, getattr(user, "id", None))
        db.session.add(attachment)
        if commit:
            db.session.commit()
        else:
            db.session.flush()
    except BaseException:
        db.session.rollback()
        if stored is not None:
            try:
                backend.delete(stored)
            except Exception:  # keep the original error; the orphan is only storage space
                current_app.logger.exception("could not delete stored file %s after a failed upload", stored)
        raise
    return attachment


def discard(attachment) -> None:
    """Delete the stored bytes of an attachment whose row was rolled back (``attach(commit=False)``)."""
    try:
        storage.get_storage().delete(attachment.stored_name)
    except Exception:  # the row is gone; an orphan file is only storage space
        current_app.logger.exception("could not delete stored file %s", attachment.stored_name)


def _load_attachment(attachment_id: int):
    from app.models import Attachment

    try:
        attachment = db.session.get(Attachment, int(attachment_id))
    except (TypeError, ValueError):
        attachment = None
    if attachment is None:
        raise NotFound(_("The file does not exist."))
    return attachment


def check_download(attachment_id: int, user):
    """The attachment, if ``user`` may read its owner record; NotFound otherwise. A removed
    file that is kept (see ``remove``) is for the national level and the admin only."""
    attachment = _load_attachment(attachment_id)
    if attachment.removed_at is not None and not scoping.user_scope(user).everything:
        raise NotFound(_("The file does not exist."))
    try:
        load_owner(attachment.owner_type, attachment.owner_id, user, scoping.DOWNLOAD)
    except NotFound:
        raise NotFound(_("The file does not exist."))
    return attachment


def remove(attachment_id: int, user) -> str:
    """Remove one file while its owner is editable. Returns the original name.

    A file of a record that was submitted once (returned for revision, say) was seen by its
    reviewers: it is hidden from the record but kept, bytes and row (SPEC I4). Otherwise the
    file and its row are deleted."""
    try:
        attachment = _load_attachment(attachment_id)
        if attachment.removed_at is not None:
            raise NotFound(_("The file does not exist."))
        try:
            owner = load_owner(attachment.owner_type, attachment.owner_id, user, scoping.EDIT, lock=True)
        except NotFound:
            raise NotFound(_("The file does not exist."))
        policy = policy_of(attachment.owner_type)
        if not policy.editable(owner):
            raise ValidationFailed(policy.not_editable(owner))
        if policy.slot_open is not None and not policy.slot_open(owner, attachment.slot):
            raise ValidationFailed(policy.not_editable(owner))
        name, stored = attachment.original_name, attachment.stored_name
        if audit.is_kept(db.session, owner):
            attachment.removed_at = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
            attachment.removed_by_id = getattr(user, "id", None)
            db.session.commit()
            return name
        db.session.delete(attachment)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    try:
        storage.get_storage().delete(stored)
    except Exception:  # the row is gone; an orphan file is only storage space (a disk or a store error)
        current_app.logger.exception("could not delete stored file %s", stored)
    return name


def attachments_of(owner_type: str, owner_id: int, slot: Optional[str] = None) -> list:
    """The owner's files (of one slot), oldest first. The caller has checked the owner's scope."""
    from app.models import Attachment

    query = select(Attachment).where(Attachment.owner_type == owner_type, Attachment.owner_id == owner_id,
                                     Attachment.removed_at.is_(None))
    if slot is not None:
        query = query.where(Attachment.slot == slot)
    return list(db.session.execute(query.order_by(Attachment.id)).scalars())


def open_file(attachment) -> BinaryIO:
    """The stored bytes as a readable stream (a file, or an object store's streaming body).
    The caller has checked the scope (``check_download``)."""
    return storage.get_storage().open(attachment.stored_name)


def download_name(attachment) -> str:
    """The ASCII fallback name of a download (the original name goes in ``filename*``)."""
    extensions = CONTENT_TYPES.get(attachment.content_type, (None, (".bin",)))[1]
    return f"attachment-{attachment.id}{extensions[0]}"


def presigned_download_url(attachment) -> Optional[str]:
    """A short-lived URL from which the client fetches the file itself, when
    STORAGE_PRESIGNED_DOWNLOADS is on and the backend can presign (S3); None: stream it.

    Call it only with what ``check_download`` returned: the URL is the file."""
    if not storage.presigned_downloads():
        return None
    return storage.get_storage().download_url(
        attachment.stored_name, attachment.original_name, attachment.content_type,
        storage.presigned_seconds(), fallback=download_name(attachment),
    )


@contextmanager
def _seekable(handle: BinaryIO) -> Iterator[BinaryIO]:
    """``handle``, or, where it cannot seek (an object store's body), a temporary copy that can:
    Pillow reads an image twice. The copy spills to disk past 1 MB."""
    with handle:
        try:
            seekable = handle.seekable()
        except (AttributeError, ValueError):
            seekable = False
        if seekable:
            yield handle
            return
        with tempfile.SpooledTemporaryFile(max_size=MB) as copy:
            shutil.copyfileobj(handle, copy, storage.CHUNK_SIZE)
            copy.seek(0)
            yield copy
