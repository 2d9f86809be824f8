"""Statistics of the mine registry (SPEC B6): under construction in this session."""


def register(appbuilder) -> None:
    """Add the statistics views and API to ``appbuilder``."""
