"""Attachments: scoped upload, removal and download routes (under construction this session)."""


def register(appbuilder) -> None:
    """Add the attachment routes to ``appbuilder``."""
