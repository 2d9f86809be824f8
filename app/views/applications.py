"""Green-mine applications and application windows (under construction this session)."""


def register(appbuilder) -> None:
    """Add the application views and API to ``appbuilder``."""
