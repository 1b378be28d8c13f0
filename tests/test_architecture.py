"""The house rules that keep the package easy to change (docs/ARCHITECTURE.md)."""

import ast
from pathlib import Path

from helpers import ROOT

PACKAGE = ROOT / "pipeline"
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 80


def modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if ".venv" not in p.parts)


def test_no_module_over_the_size_limit():
    big = {str(p.relative_to(ROOT)): n for p in modules() if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not big, f"modules over {MAX_MODULE_LINES} lines: {big}"


def test_no_function_over_the_size_limit():
    long = []
    for p in modules():
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{p.relative_to(ROOT)}:{node.lineno} {node.name} ({n} lines)")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_no_module_imports_the_package_face():
    """Inside the package, nothing imports ``pipeline/__init__.py`` (the version has its own module)."""
    offenders = []
    for p in modules():
        if p == PACKAGE / "__init__.py":
            continue
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.ImportFrom):
                face = node.module == "pipeline" or (node.level > 0 and node.module is None and _is_face(p, node.level))
                names = [a.name for a in node.names]
                if face and not all(_is_submodule(n) for n in names):  # `from . import stages` is fine
                    offenders.append(f"{p.relative_to(ROOT)}:{node.lineno} {names}")
    assert not offenders, offenders


def _is_submodule(name: str) -> bool:
    return (PACKAGE / f"{name}.py").is_file() or (PACKAGE / name / "__init__.py").is_file()


def _is_face(path: Path, level: int) -> bool:
    """``from . import x`` (level 1 in pipeline/x.py, level 2 in pipeline/sub/x.py) names the package face."""
    depth = len(path.relative_to(PACKAGE).parts)  # 1 for pipeline/x.py
    return level == depth


def test_one_version():
    from pipeline import __version__
    from pipeline._version import __version__ as v

    assert __version__ == v
    assert 'dynamic = ["version"]' in (ROOT / "pyproject.toml").read_text()


def test_roles_are_decided_in_one_module():
    """Only pipeline/roles.py gives a speaker the clinician or patient role."""
    writers = []
    for p in modules():
        if p.name == "roles.py":
            continue
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    if isinstance(t, ast.Attribute) and t.attr == "role":
                        writers.append(f"{p.relative_to(ROOT)}:{node.lineno}")
    assert not writers, writers


def test_the_readme_exit_code_table_is_the_exit_code_enum():
    import re

    from pipeline.errors import ExitCode

    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("The statuses are `pipeline.errors.ExitCode`") :]
    codes = [int(c) for c in re.findall(r"^\| (\d+) \|", table, flags=re.M)]
    assert codes == sorted(int(c) for c in ExitCode)
