"""Attention step: one diagonal of W_Q learns by gradient descent (seed 000).

ẑ = Σ wᵢ xᵢ, L = ½ (ẑ − z)², ∂L/∂wᵢ = ∂L/∂ẑ · ∂ẑ/∂wᵢ = (ẑ − z) xᵢ, wᵢ ← wᵢ − η ∂L/∂wᵢ.
"""

from types import SimpleNamespace

import sympy as sp

from autograder.derivation.references import ROUNDING_DIGITS
from autograder.model.spec import (
    Between,
    Exercise,
    OneOf,
    Sheet,
    Slip,
    choice,
    number,
    table,
    vector,
)
from autograder.model.values import Published, Table

COLUMNS = ("iteration", "z_hat", "error", "w11", "w22", "w33", "w44")

PARAMETERS = {
    "x": [1, 2, 1, 0],
    "w_start": [1, 1, 1, 1],
    "z": "0.5",
    "eta": "0.1",
    "iterations": 5,
    # A variant without a slide of its own gets one printed to 3 decimals with this cell's sign lost.
    "slide_cell": "5,w22",
    # The iteration table as the lecture slide prints it (one cell of it is wrong).
    "slide": Published.of(
        [
            [0, "4.00", "3.50", "1.000", "1.000", "1.000", "1.00"],
            [1, "1.90", "1.40", "0.650", "0.300", "0.650", "1.00"],
            [2, "1.060", "0.56", "0.510", "0.020", "0.510", "1.00"],
            [3, "0.724", "0.224", "0.454", "-0.092", "0.454", "1.00"],
            [4, "0.590", "0.090", "0.432", "-0.137", "0.432", "1.00"],
            [5, "0.54", "0.04", "0.42", "0.15", "0.42", "1.00"],
        ]
    ),
}

CELLS = {
    f"{i},{c}": f"iteration {i}, {c}"
    for i in range(PARAMETERS["iterations"] + 1)
    for c in COLUMNS[1:]
}


class SlideMismatch(ValueError):
    """The published slide has not exactly one wrong cell against these numbers."""


def derive(p: SimpleNamespace, s: Slip, r: Sheet) -> None:
    w = sp.Matrix(sp.symbols("w1:5"))
    z_hat = sp.Symbol("z_hat")
    model = (w.T * p.x)[0]
    loss = s.scale * sp.Rational(1, 2) * s.square(z_hat - p.z)
    dL_dzhat = loss.diff(z_hat)
    dzhat_dw = sp.Matrix([model.diff(wi) for wi in w])

    def output(at: sp.Matrix) -> sp.Expr:
        return model.xreplace(dict(zip(w, at, strict=True)))

    def gradient(at: sp.Matrix) -> sp.Matrix:
        inner = dzhat_dw.xreplace(dict(zip(w, at, strict=True)))
        return s.chain(dL_dzhat.xreplace({z_hat: output(at)}), inner)

    def update(here: sp.Matrix) -> sp.Matrix:
        # the loss_as_gradient slip takes the loss's value for every entry of the gradient
        if s.on("loss_as_gradient"):
            slope = loss.xreplace({z_hat: output(here)}) * sp.ones(*here.shape)
        else:
            slope = gradient(here)
        return s.rnd(here - s.sign * s.rate(p.eta) * slope)

    def row(k: int, wk: sp.Matrix) -> list[sp.Expr]:
        return [k, output(wk), output(wk) - p.z, *wk]

    # one update more than the table holds: a table one step late reaches it
    trajectory = [p.w_start]
    for _ in range(p.iterations + 1):
        trajectory.append(update(trajectory[-1]))
    rows = [row(k, wk) for k, wk in enumerate(as_written(trajectory, p.iterations, s))]
    # a row follows from the weights of the row before it
    r.step("table", lambda previous: row(len(previous), update(sp.Matrix(previous[-1][3:]))))

    r.z_hat = output(p.w_start) - p.z if s.on("error_for_output") else output(p.w_start)
    r.loss = loss.xreplace({z_hat: output(p.w_start)})
    # the sign slip writes the gradient as (z − ẑ) xᵢ, and in an update steps up the gradient
    r.grad = s.sign * gradient(p.w_start)
    r.w_new = trajectory[1]

    exact = s.exact
    right = rows if exact else right_rows(p)
    wrong, rounded = compare_with(published_table(p, right), right)
    if len(wrong) != 1:
        raise SlideMismatch(
            f"the published table must have exactly one wrong cell, not {len(wrong)}; "
            "a variant with numbers of its own needs 'slide': None (a slide is then made for it)"
        )
    r.slide_error = frozenset(rounded) if s.on("rounding_only") else wrong[0]
    i, j = cell_index(wrong[0])
    # a table one row short (in the shifted slip) has no row for the slide's cell
    if s.on("slide_value") and i < len(rows):
        rows[i][j] = -rows[i][j]
    r.table = Table(COLUMNS, sp.Matrix(rows))


def as_written(trajectory: list[sp.Matrix], iterations: int, s: Slip) -> list[sp.Matrix]:
    """The diagonals the table's rows hold: after 0 … `iterations` updates. In the shifted slip the
    loop runs once too few (the last row missing), or it updates before it writes a row (each row
    one update late, under the iteration number asked for)."""
    if not s.on("shifted"):
        return trajectory[: iterations + 1]
    return (trajectory[:iterations], trajectory[1 : iterations + 2])[s.form_of("shifted")]


def right_rows(p: SimpleNamespace) -> list[list[sp.Expr]]:
    sheet = Sheet()
    derive(p, Slip(), sheet)
    return [list(sheet.table.rows.row(i)) for i in range(sheet.table.rows.rows)]


def published_table(p: SimpleNamespace, rows: list[list[sp.Expr]]) -> Published:
    """The lecture's slide, or for a variant a slide printed to 3 decimals with one sign lost."""
    if p.slide is not None:
        return p.slide
    printed = [[str(k), *(f"{float(v):.3f}" for v in row[1:])] for k, row in enumerate(rows)]
    i, j = cell_index(p.slide_cell)
    printed[i][j] = f"{-float(rows[i][j]):.3f}"
    return Published.of(printed)


def cell_index(key: str) -> tuple[int, int]:
    iteration, column = key.split(",")
    return int(iteration), COLUMNS.index(column)


def compare_with(published: Published, rows: list[list[sp.Expr]]) -> tuple[list[str], list[str]]:
    """The cells of a published table that are wrong, and those that are merely rounded."""
    wrong, rounded = [], []
    for i, row in enumerate(rows):
        for j, column in enumerate(COLUMNS[1:], start=1):
            gap = abs(published.value(i, j) - row[j])
            if gap > published.half_unit(i, j):
                wrong.append(f"{i},{column}")
            elif gap != 0:
                rounded.append(f"{i},{column}")
    return wrong, rounded


# A student's own numbers: whole inputs (x2 ≠ 0, so that w22, the slide's wrong cell, learns), a
# start diagonal and a target in halves, a learning rate in twentieths. The lecture's slide
# belongs to its numbers: a variant gets a slide made for it.
VARY = {
    "x": [Between(0, 3), Between(1, 3), Between(0, 3), Between(0, 3)],
    "w_start": Between("0.5", "1.5", "0.5"),
    "z": Between("0.5", "3.0", "0.5"),
    "eta": Between("0.05", "0.2", "0.05"),
    "slide": OneOf((None,)),
}
# The slide's wrong cell must be plainly wrong to 3 decimals once its sign is lost.
SLIDE_CELL_AT_LEAST = sp.Rational(1, 100)


def well_posed(p: SimpleNamespace) -> str | None:
    if len(set(p.x)) == 1:
        return "with equal inputs, the gradient without the factor xᵢ is a multiple of the true one"
    # each update scales ẑ − z by 1 − η|x|²: it must shrink without changing sign
    if not 0 < 1 - p.eta * p.x.dot(p.x) < 1:
        return "the error ẑ − z would not shrink monotonically"
    error = p.w_start.dot(p.x) - p.z
    if error == 0:
        return "the start diagonal already hits the target: nothing to learn"
    # without the square, ½(ẑ − z) is the loss where ẑ − z = 1, and its slope ½ xᵢ the gradient
    # where ẑ − z = ½
    if error in (1, sp.Rational(1, 2)):
        return "with the square forgotten, the loss or the gradient would still come out right"
    try:
        rows = right_rows(p)
    except SlideMismatch:
        return f"the slide's cell {p.slide_cell} is 0 to 3 decimals: a lost sign does not show"
    i, j = cell_index(p.slide_cell)
    if abs(rows[i][j]) < SLIDE_CELL_AT_LEAST:
        return f"the slide's cell {p.slide_cell} is too close to 0 for a lost sign to show"
    if not compare_with(published_table(p, rows), rows)[1]:
        return "no cell of the slide is merely rounded"
    # rounding to 3 decimals moves each weight by at most half a unit an update: with few and
    # small inputs (x = (0, 1, 0, 0), say) no cell of the table may leave the tolerance
    if not rounding_shows(p, rows):
        return "the table rounded to 3 decimals at every update stays within the tolerance"
    return None


# How many tolerances some cell of the table rounded at every update must be off: plainly, not
# where a student's float arithmetic or rounding of ties could bring it back within.
ROUNDED_APART = 2


def rounding_shows(p: SimpleNamespace, rows: list[list[sp.Expr]]) -> bool:
    sheet = Sheet()
    derive(p, Slip("rounded", rounding=ROUNDING_DIGITS), sheet)
    tolerance = next(q.tolerance for q in EXERCISE.questions if q.name == "table")
    return any(
        abs(mistaken - right) > ROUNDED_APART * (tolerance.atol + tolerance.rtol * abs(right))
        for mistaken, right in zip(sheet.table.rows, sp.Matrix(rows), strict=True)
    )


EXERCISE = Exercise(
    name="attention_step",
    title="One weight diagonal learning by gradient descent",
    source="seed 000",
    parameters=PARAMETERS,
    derive=derive,
    vary=VARY,
    well_posed=well_posed,
    questions=(
        number("z_hat", mistakes=("error_for_output",)),
        number("loss", mistakes=("factor_two", "not_squared")),
        vector("grad", 4, points=2, mistakes=("chain_factor", "factor_two", "sign", "not_squared")),
        vector(
            "w_new",
            4,
            points=2,
            mistakes=(
                "sign",
                "chain_factor",
                "factor_two",
                "no_learning_rate",
                "doubled_step",
                "not_squared",
                "loss_as_gradient",
            ),
        ),
        # w − 2η∇L is the answer of both doubled_step and the factor-2 slip's form 2, on w_new and
        # on the table: the grader names them together.
        table(
            "table",
            COLUMNS,
            PARAMETERS["iterations"] + 1,
            points=3,
            mistakes=(
                "slide_value",
                "sign",
                "shifted",
                "rounded",
                "chain_factor",
                "factor_two",
                "no_learning_rate",
                "doubled_step",
                "not_squared",
                "loss_as_gradient",
            ),
        ),
        choice("slide_error", CELLS, mistakes=("rounding_only",)),
    ),
)
