"""Excel import and export of mines (SPEC B8): under construction in this session."""


def register(appbuilder) -> None:
    """Add the Excel import/export views to ``appbuilder``."""
