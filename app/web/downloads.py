"""How a file leaves the application, for the screens and the REST API alike.

A generated file (certificate PDF, report, Excel table) goes out through ``file_response``: an
attachment named in the user's language with an ASCII fallback, never sniffed or cached.
Attachments of records stream from the storage instead (``attachment_response``)."""
from __future__ import annotations

from flask import current_app, redirect

from app.models import Certificate, CertificationCertificate
from app.models.spotcheck import SpotCheckCampaign
from app.services import certificates, spotcheck_reports, surveillance, uploads
from app.services.downloads import content_disposition


def file_response(body: bytes, mimetype: str, filename: str, fallback: str):
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename, fallback)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def attachment_response(attachment):
    """The file as a download (screens and REST alike), for an attachment that passed
    ``uploads.check_download``: a 302 to a short-lived presigned URL of the object store when
    STORAGE_PRESIGNED_DOWNLOADS is on and the backend can presign, else the bytes streamed in
    chunks. Never rendered by the browser (attachment, nosniff, a sandboxing CSP)."""
    url = uploads.presigned_download_url(attachment)
    if url is not None:
        response = redirect(url, 302)
        # The URL is a credential for a minute: not to be kept by caches or sent on as a referrer.
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response
    handle = uploads.open_file(attachment)

    def stream():
        with handle:
            while True:
                chunk = handle.read(64 * 1024)
                if not chunk:
                    break
                yield chunk

    response = current_app.response_class(stream(), mimetype=attachment.content_type, direct_passthrough=True)
    response.headers["Content-Disposition"] = content_disposition(attachment.original_name,
                                                                  uploads.download_name(attachment))
    response.headers["Content-Length"] = str(attachment.size_bytes)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def certificate_pdf_response(certificate: Certificate):
    """The directory certificate as a PDF download (screens and REST alike)."""
    name = certificates.file_name(certificate)
    return file_response(certificates.render_pdf(certificate), "application/pdf", name, name)


def certification_certificate_pdf_response(certificate: CertificationCertificate):
    """The certification certificate as a PDF download (screens and REST alike)."""
    name = surveillance.file_name(certificate)
    return file_response(surveillance.render_pdf(certificate), "application/pdf", name, name)


def spot_check_summary_response(campaign: SpotCheckCampaign):
    """The summary table as an .xlsx download (screens and REST alike)."""
    return file_response(spotcheck_reports.summary_xlsx(campaign), spotcheck_reports.XLSX_MIMETYPE,
                         *spotcheck_reports.summary_file_name(campaign))


def spot_check_report_response(campaign: SpotCheckCampaign):
    """The report as a PDF download (screens and REST alike)."""
    return file_response(spotcheck_reports.render_report_pdf(campaign), "application/pdf",
                         *spotcheck_reports.report_file_name(campaign))
