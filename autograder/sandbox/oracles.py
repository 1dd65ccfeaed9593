"""Functions the grader hands to a student's function as arguments, such as the gradient of a loss.

Self-contained (NumPy and SymPy only): the sandbox loads this file on its own, without the package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import sympy as sp


@cache
def _compiled(loss: str, variables: tuple[str, ...]) -> Callable[..., Any]:
    """A loss's gradient as a NumPy function, worked out once per process: the sandbox worker
    compiles the gradients of a job before it forks the job's child, so that every child that
    calls one inherits it instead of spending SymPy's 0.1 s on it."""
    gradient = Gradient(loss, variables)
    function: Callable[..., Any] = _sympy().lambdify(
        gradient.symbols(), list(gradient.gradient()), "numpy"
    )
    return function


def compile_gradients(probes: Any) -> None:
    """Every gradient among a job's probes (as the grader sends them) compiled in this process."""
    for arguments in probes or ():
        for argument in arguments:
            if isinstance(argument, dict) and isinstance(argument.get("gradient"), list):
                loss, variables = argument["gradient"]
                if isinstance(loss, str) and all(isinstance(v, str) for v in variables):
                    _compiled(loss, tuple(variables))


def _sympy() -> Any:
    """SymPy, loaded where a gradient is worked out, not where one is only handed on (the grader
    starts its workers before it has loaded SymPy)."""
    import sympy

    return sympy


@dataclass(frozen=True)
class Gradient:
    """A gradient handed to a student's optimiser: callable on floats or arrays, picklable.

    It carries the loss it differentiates (as text) so that a reference rule can work with it
    symbolically while the student's code just calls it.
    """

    loss: str
    variables: tuple[str, ...]
    _numeric: list[Callable[..., Any]] = field(default_factory=list, compare=False, repr=False)

    def symbols(self) -> tuple[sp.Symbol, ...]:
        return tuple(_sympy().Symbol(v) for v in self.variables)

    def expression(self) -> sp.Expr:
        sympy = _sympy()
        expression: sp.Expr = sympy.sympify(
            self.loss, locals={v: sympy.Symbol(v) for v in self.variables}
        )
        return expression

    def gradient(self) -> sp.Matrix:
        gradient: sp.Matrix = _sympy().Matrix([self.expression().diff(v) for v in self.symbols()])
        return gradient

    def __call__(self, w: Any) -> Any:
        if not self._numeric:
            self._numeric.append(_compiled(self.loss, self.variables))
        values = np.atleast_1d(np.asarray(w, dtype=float))
        result = np.asarray(self._numeric[0](*values), dtype=float)
        return float(result[0]) if len(self.variables) == 1 and np.ndim(w) == 0 else result

    def __getstate__(self) -> dict[str, Any]:
        return {"loss": self.loss, "variables": self.variables}

    def __setstate__(self, state: dict[str, Any]) -> None:
        object.__setattr__(self, "loss", state["loss"])
        object.__setattr__(self, "variables", state["variables"])
        object.__setattr__(self, "_numeric", [])
