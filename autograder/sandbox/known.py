"""The grader's own cells of a job, prepared in the sandbox worker before it forks.

Loaded by path by `worker.py` (like `plain` and `child`): it imports nothing of the grader, and it
prepares only cells the grader sends as its own (the given numbers, the checks), never a student's.
"""

from __future__ import annotations
import __future__

import ast
from typing import Any

from IPython.core.compilerop import CachingCompiler

FUTURES = [getattr(__future__, name) for name in __future__.all_feature_names]


class Compiler(CachingCompiler):
    """IPython's compiler, which answers from the cells prepared in `cells` first."""

    cells: KnownCells

    def ast_parse(self, source: str, filename: str = "<unknown>", symbol: str = "exec") -> Any:
        tree = self.cells.trees.get((source, self.flags)) if symbol == "exec" else None
        return tree if tree is not None else super().ast_parse(source, filename, symbol)

    def __call__(self, source: Any, filename: str, symbol: str, **kwargs: Any) -> Any:
        code = None if kwargs else self.cells.code(source, symbol, self.flags)
        if code is None or code.co_filename != filename:
            return super().__call__(source, filename, symbol, **kwargs)
        for feature in FUTURES:  # as codeop.Compile remembers a `from __future__` import
            if code.co_flags & feature.compiler_flag:
                self.flags |= feature.compiler_flag
        return code


class KnownCells:
    """The grader's own cells (those with no place in the student's notebook) prepared in the
    worker before it forks, as IPython would prepare them in each child: their transformation, the
    check for top-level `await`, the syntax tree and the code of each statement, under the very
    names IPython gives them (tracebacks show their lines). A child then runs them with IPython's
    semantics without parsing or compiling them again (a checks cell: 3-4 ms of a child's 25). A
    student's cell is never prepared here, only in the child that runs it; whatever a child asks
    that was not prepared (other compiler flags after a `from __future__` import, a cell the AST
    transformers changed) IPython does itself."""

    KEPT = 64  # distinct sources at most (each student's own numbers make their setup cell differ)

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.transform = shell.transform_cell
        self.should_run_async = shell.should_run_async
        self.known: dict[str, str] = {}
        self.synchronous: set[str] = set()
        self.trees: dict[tuple[str, int], Any] = {}
        self.codes: dict[tuple[Any, ...], Any] = {}
        shell.compile.__class__ = Compiler
        shell.compile.cells = self
        shell.transform_cell = self
        shell.should_run_async = self._should_run_async

    def __call__(self, raw_cell: str) -> str:
        known = self.known.get(raw_cell)
        return self.transform(raw_cell) if known is None else known

    def _should_run_async(self, raw_cell: str, **kwargs: Any) -> bool:
        transformed = kwargs.get("transformed_cell")
        if kwargs.get("preprocessing_exc_tuple") is None and transformed in self.synchronous:
            return False
        return bool(self.should_run_async(raw_cell, **kwargs))

    def code(self, mod: Any, symbol: str, flags: int) -> Any:
        """The prepared code of a one-statement module as IPython compiles it, None if none."""
        body = getattr(mod, "body", None)
        if not isinstance(body, list) or len(body) != 1:
            return None
        return self.codes.get((type(mod), body[0], symbol, flags))

    def learn(self, cells: list[dict[str, Any]]) -> None:
        """Each of the grader's cells of a job that is not prepared yet."""
        for cell in cells:
            source = cell["source"]
            if cell.get("position") is None and source not in self.known:
                if len(self.known) >= self.KEPT:
                    self.known.clear()
                    self.synchronous.clear()
                    self.trees.clear()
                    self.codes.clear()
                try:
                    self._prepare(source)
                except Exception:  # IPython's own error for it, then, in the child
                    continue

    def _prepare(self, raw: str) -> None:
        """As InteractiveShell.run_cell prepares a cell whose last statement alone is shown
        (`ast_node_interactivity = "last_expr"`, IPython's default and the course's)."""
        shell = self.shell
        transformed = self.transform(raw)
        self.known[raw] = transformed
        if self.should_run_async(raw, transformed_cell=transformed):
            return
        self.synchronous.add(transformed)
        if shell.ast_node_interactivity != "last_expr":
            return
        compiler = shell.compile
        name = compiler.cache(transformed, shell.execution_count, raw_code=raw)
        tree = compiler.ast_parse(transformed, filename=name)
        nodes = tree.body
        # the last statement is shown where it is an expression, as IPython runs it
        shown = len(nodes) - 1 if nodes and isinstance(nodes[-1], ast.Expr) else len(nodes)
        awaiting = getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0) if shell.autoawait else 0
        flags = compiler.flags | awaiting
        for at, node in enumerate(nodes):
            mod: ast.Module | ast.Interactive = (
                ast.Interactive([node]) if at == shown else ast.Module([node], [])
            )
            symbol = "single" if at == shown else "exec"
            self.codes[(type(mod), node, symbol, flags)] = compile(mod, name, symbol, flags, True)
        self.trees[(transformed, compiler.flags)] = tree
