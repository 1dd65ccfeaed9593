"""The package's layout: one subpackage per stage of the flow, imports that run one way only, the
sandbox apart from the grader, no circle, no module past ~400 lines.

Every import statement of every module is read from its source (those inside functions too), so
a lazy import that reaches back up the flow is caught as well as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "autograder"
# the stages in the order of the flow; a module may import its own stage and those before it.
# The sandbox stands first: it imports nothing of the others, and its plain-data encoding is
# what every stage reads a student's values in.
STAGES = ("sandbox", "model", "derivation", "judging", "release", "classroom", "reports")
# the shell around the stages: the command, the demo and its sample class, the public API
SHELL = ("cli", "demo", "samples", "__init__")
MAX_LINES = 400


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        found[".".join(("autograder", *parts))] = path
    return found


def imported(path: Path) -> set[str]:
    """The modules of the package that a file imports, anywhere in it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    own = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("autograder")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*own.split(".")[: len(own.split(".")) - node.level + 1], base])
                base = base.rstrip(".")
            if base.startswith("autograder"):
                known = modules()
                for alias in node.names:
                    whole = f"{base}.{alias.name}"
                    names.add(whole if whole in known else base)
    return names


def stage(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "__init__"


def test_ls_autograder_names_the_flow() -> None:
    listed = sorted(p.stem for p in PACKAGE.iterdir() if not p.name.startswith(("_", ".")))
    assert set(listed) == set(STAGES) | {s for s in SHELL if s != "__init__"}


@pytest.mark.parametrize("package", (*STAGES, "cli"))
def test_every_subpackage_says_what_it_holds(package: str) -> None:
    docstring = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text()))
    assert docstring and len(docstring.split()) >= 12


def test_the_sandbox_imports_nothing_of_the_grader() -> None:
    for module, path in modules().items():
        if stage(module) == "sandbox":
            outside = {m for m in imported(path) if stage(m) != "sandbox" and m != "autograder"}
            assert not outside, f"{module} imports {outside}"


def test_imports_run_down_the_flow_only() -> None:
    for module, path in modules().items():
        if stage(module) in SHELL:
            continue
        mine = STAGES.index(stage(module))
        for other in imported(path):
            theirs = stage(other)
            assert theirs not in SHELL, f"{module} imports {other}"
            assert STAGES.index(theirs) <= mine, f"{module} reaches back up to {other}"


def test_no_import_circle() -> None:
    known = modules()
    graph = {m: {o for o in imported(p) if o in known and o != m} for m, p in known.items()}
    # a package's own __init__ re-exporting from its modules is the only way into it, not a circle
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in graph[node]:
            if state.get(nxt) == "open":
                raise AssertionError(" → ".join([*path[path.index(nxt) :], nxt]))
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for start in graph:
        if start not in state:
            visit(start, [start])


def test_no_module_is_past_about_four_hundred_lines() -> None:
    long = {
        m: n for m, p in modules().items() if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long
