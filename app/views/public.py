"""Views of the public domain (issue 6). Being written."""


def register(appbuilder) -> None:
    """Add this domain's views and APIs to ``appbuilder``."""
