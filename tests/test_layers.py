"""The layers of app/ point one way (read from the source with ``ast``, nothing is imported).

    app (the factory), app.cli        the composition root: may import anything
    app.security                      FAB's security manager and its account screens, which use
                                      the screens' widgets and formatters
    app.views, app.api                screens and REST: never each other
    app.web, app.errors               what screens and REST share
    app.services                      the rules
    app.models                        tables and the closed lists they show
    app.extensions, app.clock         the db object; the deployment's calendar

Each layer imports only from the layers below it and from itself; imports inside functions count
too, and so does ``__import__``/``import_module`` of a constant name. Alembic migrations import
nothing from the application (they must keep working whatever the models become).
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, Optional

APP_DIR = Path(__file__).resolve().parent.parent / "app"

BELOW_WEB = ("app.services", "app.models", "app.extensions", "app.clock")
WEB = ("app.web", "app.errors") + BELOW_WEB
# The first prefix that names a module decides its layer; the layer lists what it may import.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("app.migrations", ()),
    ("app.extensions", ()),
    ("app.clock", ()),
    ("app.models", ("app.models", "app.extensions", "app.clock")),
    ("app.services", BELOW_WEB),
    ("app.errors", ("app.errors",) + BELOW_WEB),
    ("app.web", WEB),
    ("app.views", ("app.views",) + WEB),
    ("app.api", ("app.api",) + WEB),
    ("app.security", ("app.security", "app.views") + WEB),
    ("app.cli", ("app",)),
    ("app", ("app",)),
)


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def layer_of(module: str) -> tuple[str, tuple[str, ...]]:
    for prefix, allowed in LAYERS:
        if _within(module, prefix):
            return prefix, allowed
    raise LookupError(f"{module} is in no layer: add it to LAYERS")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(APP_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(module: str) -> bool:
    return (APP_DIR.parent / Path(*module.split("."))).is_dir()


def _resolve(current: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _constant_name(node: ast.AST) -> Optional[str]:
    """The module named by the first argument of a dynamic import, when it is written out."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        # f"app.services.{module}": the written-out part names the package.
        return str(node.values[0].value).rstrip(".")
    return None


def imported_modules(source: str, current: str, is_package: bool = False) -> Iterator[tuple[int, str]]:
    """(line, module) for every module of the application that ``source`` imports."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(current, is_package, node)
            for alias in node.names:
                # ``from app import api`` imports the module app.api; ``from app import create_app``
                # imports from app itself.
                submodule = f"{module}.{alias.name}"
                yield node.lineno, submodule if _is_package(submodule) or _is_module(submodule) else module
        elif isinstance(node, ast.Call) and node.args:
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in ("__import__", "import_module"):
                target = _constant_name(node.args[0])
                if target:
                    yield node.lineno, target


def _is_module(module: str) -> bool:
    return (APP_DIR.parent / Path(*module.split("."))).with_suffix(".py").is_file()


def violations(source: str, current: str, is_package: bool = False) -> list[str]:
    prefix, allowed = layer_of(current)
    found = []
    for line, module in imported_modules(source, current, is_package):
        if not _within(module, "app"):
            continue
        if not any(_within(module, permitted) for permitted in allowed):
            found.append(f"{current}:{line} imports {module} (layer {prefix} may import only "
                         f"{', '.join(allowed) or 'nothing of the application'})")
    return found


def application_modules() -> Iterator[tuple[Path, str]]:
    for path in sorted(APP_DIR.rglob("*.py")):
        yield path, module_name(path)


def test_every_import_points_down_or_stays_in_its_layer():
    found = []
    for path, module in application_modules():
        found += violations(path.read_text(encoding="utf-8"), module, path.name == "__init__.py")
    assert not found, "imports that point up or sideways:\n" + "\n".join(found)


def test_every_module_is_in_a_layer():
    for _path, module in application_modules():
        layer_of(module)


def test_the_check_sees_what_it_must_refuse():
    # A model reaching up for a label, lazily inside a property, as the models once did.
    model = "class A:\n    @property\n    def label(self):\n        from app.services.workflow import state_label\n"
    assert violations(model, "app.models.application") == [
        "app.models.application:4 imports app.services.workflow (layer app.models may import only "
        "app.models, app.extensions, app.clock)"]
    # Screens and REST never import each other, in either direction, however they spell it.
    assert violations("from app.api.attachments import AttachmentApi\n", "app.views.attachments")
    assert violations("from ..views import certification\n", "app.api.certification")
    assert violations("from app import views\n", "app.api.users")
    assert violations("import app.views.base\n", "app.api")
    # A service does not import a screen; a dynamic import by a written-out name counts.
    assert violations("__import__(f'app.views.{name}')\n", "app.services.workflow")
    assert violations("importlib.import_module('app.api')\n", "app.services.demo")
    # What is allowed stays allowed.
    assert not violations("from app.services import scoping\nfrom app.web.base import ScopedModelView\n",
                          "app.views.registry")
    assert not violations("from .states import WorkflowRecord\n", "app.models.application")
    assert not violations("from app import create_app\nfrom app import api\n", "app.cli")


def test_every_value_a_model_leaves_to_a_service_is_provided(app):
    """The models name the service rules they show (``service_rule``); the application, once
    created, has imported the service that provides each, under the name the model gives."""
    from app.models.mixins import DECLARED_SERVICE_RULES, provided_rules

    assert DECLARED_SERVICE_RULES == {"certificates.status_of", "surveillance.validity", "selfchecks.is_late",
                                      "directory.review_note",
                                      "spotchecks.deadline_passed_at_creation"}
    assert DECLARED_SERVICE_RULES <= provided_rules()
    for name in DECLARED_SERVICE_RULES:
        module, function = name.split(".")
        assert (APP_DIR / "services" / f"{module}.py").read_text(encoding="utf-8").count(f"def {function}(") == 1
