"""Dependencies point inward: core/ never imports a chat platform library."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_LIBS = {"aiogram", "slack_bolt", "slack_sdk"}


def imported_roots(path: Path) -> set[str]:
    """Top-level package names a module imports (absolute imports only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_core_module_imports_a_platform_library():
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & PLATFORM_LIBS)
        for path in (ROOT / "core").rglob("*.py")
        if imported_roots(path) & PLATFORM_LIBS
    }
    assert offenders == {}


def test_core_does_not_import_adapters_or_bot():
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & {"adapters", "bot"})
        for path in (ROOT / "core").rglob("*.py")
        if imported_roots(path) & {"adapters", "bot"}
    }
    assert offenders == {}


def test_importing_all_of_core_loads_no_platform_library():
    """Catches indirect imports too: load every core module in a clean interpreter."""
    modules = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in (ROOT / "core").rglob("*.py")
        if "versions" not in path.parts and path.name != "env.py"
    )
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(PLATFORM_LIBS)!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_checker_would_notice_a_platform_import(tmp_path):
    """The AST check itself works: a planted import is found."""
    planted = tmp_path / "planted.py"
    planted.write_text("from aiogram import Bot\nimport slack_sdk.web\n")
    assert imported_roots(planted) & PLATFORM_LIBS == {"aiogram", "slack_sdk"}


MACHINERY = {"aiohttp", "redis", "apscheduler"}  # the web server, shared state, timers: core/infra's


def imported_modules(path: Path) -> set[str]:
    """Dotted names of the modules a file imports from (absolute imports only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_the_domain_and_the_use_cases_import_no_machinery():
    """The domain, services, chat, presentation and config know no HTTP, Redis or scheduler library."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & MACHINERY)
        for layer in ("domain", "services", "chat", "presentation", "config")
        for path in (ROOT / "core" / layer).rglob("*.py")
        if imported_roots(path) & MACHINERY
    }
    assert offenders == {}


def test_the_domain_imports_nothing_else_of_teamflow():
    """core/domain is the innermost ring: tables and rules, nothing of services, chat or the machinery."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in imported_modules(path)
                                            if m.split(".")[0] in {"core", "adapters", "bot"}
                                            and not m.startswith("core.domain"))
        for path in (ROOT / "core" / "domain").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_forms_package_is_a_handful_of_readable_modules():
    """core/forms: a few cohesive modules, none past the ~400-line rule, none named like another of core/'s."""
    forms = {path.name: len(path.read_text(encoding="utf-8").splitlines())
             for path in (ROOT / "core" / "forms").glob("*.py") if path.name != "__init__.py"}
    elsewhere = {path.name for path in (ROOT / "core").rglob("*.py")
                 if "forms" not in path.relative_to(ROOT / "core").parts[:1]}
    assert len(forms) <= 10
    assert {name: lines for name, lines in forms.items() if lines > 400} == {}
    assert sorted(set(forms) & elsewhere) == []
