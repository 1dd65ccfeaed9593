"""The sandbox on its own: isolation from the grader, IPython's cell semantics, and the bounds.

Each row is a submission's cells and what must come back; the pool is real (worker processes
forking a child per job), with small bounds so that a runaway costs a second, not a minute.
"""

from __future__ import annotations

import os
import platform
import signal
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from autograder.sandbox import confinement
from autograder.sandbox.child import STRETCH
from autograder.sandbox.execution import BOUNDS, Asked, Cell, Job, Limits, Run
from autograder.sandbox.oracles import Gradient
from autograder.sandbox.plain import Table
from autograder.sandbox.pool import Pool

LIMITS = Limits(
    wall_seconds=8,
    cell_seconds=2,
    function_seconds=2,
    cpu_seconds=6,
    memory_bytes=1024**3,
    output_bytes=64 * 1024,
    threads=8,
    scratch_files=200,
)


@pytest.fixture(scope="module")
def pool() -> Iterator[Pool]:
    with Pool(2, LIMITS) as p:
        yield p


def run(pool: Pool, *cells: str | Cell, names: tuple[str, ...] = ("answer",)) -> Run:
    job = Job(
        tuple(c if isinstance(c, Cell) else Cell(c) for c in cells), tuple(Asked(n) for n in names)
    )
    return pool.run(job)


ANSWER_CELL = Cell("answer = 5", "answer")  # a solution cell: its answer is reported right after it


def value(r: Run, name: str = "answer") -> object:
    return r.answers[name].value


def test_a_child_holds_no_grader_and_cannot_import_it(pool: Pool) -> None:
    r = run(
        pool,
        "import sys\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('autograder', 'exercises'))\n"
        "try:\n    import autograder\n    importable = True\nexcept ImportError:\n    importable = False",
        names=("loaded", "importable"),
    )
    assert value(r, "loaded") == []
    assert value(r, "importable") is False


def test_the_child_sees_none_of_the_graders_environment(
    pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = run(pool, "import os\nanswer = sorted(os.environ)")
    assert set(value(r)) <= {
        "PATH",
        "HOME",
        "LANG",
        "IPYTHONDIR",
        "MPLBACKEND",
        "TMPDIR",
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
    }


def test_ipython_cell_semantics_magics_display_and_last_expression(pool: Pool) -> None:
    r = run(pool, "%time x = 2\ndisplay(x)\nx + 1", "answer = _ * 10 if isinstance(_, int) else -1")
    assert r.completed and not r.cell_errors
    assert value(r) == 30


def test_the_graders_own_cells_run_as_ipython_runs_them_though_the_worker_prepared_them(
    pool: Pool,
) -> None:
    """A cell of the grader's (no place in the notebook) is parsed and compiled once in the worker;
    every run of it shows what IPython shows: its last expression, tracebacks with its own lines,
    and a student's `from __future__` import in force in the cells after it."""
    grader = Cell("def f(x):\n    return 1 / x\nhalf = f(2)\nhalf")
    student = Cell("from __future__ import annotations\nanswer = f(0)", "answer", position=3)
    after = Cell("def g(x: undefined_name): pass\ng.__annotations__")
    runs = [run(pool, grader, student, after) for _ in range(3)]
    for r in runs:
        assert r.completed
        assert r.shown[0] == ({"result": {"text/plain": "0.5"}, "cut": 0},)
        assert r.cell_errors == {1: "ZeroDivisionError: division by zero"}
        assert "return 1 / x" in r.shown[1][0]["error"][2]
        assert r.shown[2] == ({"result": {"text/plain": "{'x': 'undefined_name'}"}, "cut": 0},)
    alone = run(pool, grader, Cell("answer = 1", "answer", position=3), after)
    assert alone.cell_errors == {2: "NameError: name 'undefined_name' is not defined"}


def test_values_come_back_as_plain_data(pool: Pool) -> None:
    r = run(
        pool,
        "import numpy as np, pandas as pd, sympy as sp\n"
        "a = np.array([[1.5, float('nan')], [2, 3]])\n"
        "t = pd.DataFrame([[1, 2.5]], columns=['x', 'y'])\n"
        "f = sp.Symbol('w') ** 2 / 2\n"
        "z = 1 + 2j\n"
        "class Liar(float):\n    def __eq__(self, other): return True\n    def __float__(self): return 4.0\n"
        "liar = Liar(1.25)",
        names=("a", "t", "f", "z", "liar"),
    )
    a = value(r, "a")
    assert isinstance(a, np.ndarray) and a.shape == (2, 2) and np.isnan(a[0, 1])
    table = value(r, "t")
    assert isinstance(table, Table) and table.columns == ["x", "y"] and table.rows == [[1, 2.5]]
    assert value(r, "f") == "w**2/2"
    assert value(r, "z") == 1 + 2j
    assert value(r, "liar") == 1.25  # read through float's own slot: the override is ignored


def test_functions_are_called_in_the_child_on_the_graders_probes(pool: Pool) -> None:
    job = Job(
        (Cell("def step(grad, w0):\n    return w0 - 0.25 * grad(w0)"),),
        (Asked("step", ((Gradient("(w - 3)**2", ("w",)), 0.0), (Gradient("w**2", ("w",)), "x"))),),
    )
    r = pool.run(job)
    outputs = r.answers["step"].outputs
    assert outputs is not None
    assert outputs[0] == ("result", 1.5)
    assert outputs[1][0] == "raised"


def test_a_cell_that_loops_forever_is_cut_and_the_next_cells_run(pool: Pool) -> None:
    r = run(pool, "while True:\n    pass", "answer = 7")
    assert "CellTimeout" in r.cell_errors[0]
    assert value(r) == 7


def test_a_submission_that_ignores_the_alarm_is_ended_at_the_wall_bound(pool: Pool) -> None:
    r = run(
        pool,
        ANSWER_CELL,
        "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass",
    )
    assert r.status in ("timeout", "killed")
    assert value(r) == 5  # reported before the runaway cell: nothing graded is lost
    # the bound counts the time the run computed, not the time it waited for a core on a loaded
    # machine: up to STRETCH times the bound in all
    assert r.seconds < STRETCH * LIMITS.wall_seconds + 2


def test_a_memory_bomb_meets_the_memory_bound(pool: Pool) -> None:
    r = run(pool, "big = bytearray(4 * 1024**3)", "answer = 'after'")
    assert "MemoryError" in r.cell_errors[0]
    assert value(r) == "after"


def test_output_beyond_the_bound_fails_the_cell_not_the_run(pool: Pool) -> None:
    r = run(
        pool, "import sys, os\nfor _ in range(10**6):\n    os.write(1, b'x' * 1024)", "answer = 2"
    )
    assert "OSError" in r.cell_errors[0] or "File too large" in r.cell_errors[0]
    assert value(r) == 2
    assert r.output_bytes <= LIMITS.output_bytes


@pytest.mark.parametrize(
    "ending",
    [
        "import os\nos._exit(0)",
        "import sys\nsys.exit(3)",
        "raise SystemExit",
        "raise KeyboardInterrupt",
    ],
)
def test_ending_the_run_keeps_what_was_answered(pool: Pool, ending: str) -> None:
    r = run(pool, ANSWER_CELL, ending, "late = 1", names=("answer", "late"))
    assert value(r) == 5


def test_the_grading_processes_are_out_of_reach(pool: Pool) -> None:
    r = run(
        pool,
        "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
        "import os, signal\nos.kill(0, signal.SIGKILL)",
        "answer = 3",
    )
    assert "PermissionError" in r.cell_errors[0]
    assert r.status == "killed" or value(r) == 3  # its own group is its own to end
    after = run(pool, "answer = 4")
    assert value(after) == 4


def test_files_of_the_course_and_the_grader_cannot_be_read(pool: Pool, tmp_path: Path) -> None:
    secret = tmp_path / "gradebook.db"
    secret.write_text("reference values")
    package = Path(__file__).resolve().parents[1] / "autograder" / "derivation" / "references.py"
    r = run(
        pool,
        f"try:\n    answer = open({str(secret)!r}).read()\nexcept OSError as e:\n    answer = type(e).__name__",
        f"try:\n    found = open({str(package)!r}).read()[:10]\nexcept OSError as e:\n    found = type(e).__name__",
        "import glob\nlisted = glob.glob('/tmp/*') + glob.glob('/work/*') + glob.glob('/home/*')",
        names=("answer", "found", "listed"),
    )
    if value(r) != "PermissionError":
        pytest.skip("the kernel has no Landlock: files are not confined")
    assert value(r, "found") == "PermissionError"
    assert value(r, "listed") == []


def test_no_network_and_no_processes_but_threads_and_scratch_files(pool: Pool) -> None:
    r = run(
        pool,
        "import socket\ntry:\n    socket.create_connection(('127.0.0.1', 9), timeout=1)\n"
        "except OSError as e:\n    net = type(e).__name__",
        "import subprocess\ntry:\n    subprocess.run(['true'])\nexcept OSError as e:\n    spawn = type(e).__name__",
        "import threading\nt = threading.Thread(target=lambda: None)\nt.start()\nt.join()\nthread = 'ran'",
        "import tempfile\nwith tempfile.NamedTemporaryFile('w') as f:\n    f.write('x')\n    scratch = 'written'",
        names=("net", "spawn", "thread", "scratch"),
    )
    assert value(r, "net") in ("PermissionError", "ConnectionRefusedError")
    assert value(r, "spawn") == "BlockingIOError"
    assert value(r, "thread") == "ran"
    assert value(r, "scratch") == "written"


def test_a_fork_bomb_is_refused(pool: Pool) -> None:
    r = run(pool, "import os\nwhile True:\n    os.fork()", ANSWER_CELL)
    assert "BlockingIOError" in r.cell_errors[0]
    assert value(r) == 5


def test_a_stray_thread_does_not_outlive_the_run(pool: Pool) -> None:
    r = run(
        pool,
        "import threading, time\n"
        "threading.Thread(target=lambda: time.sleep(100), daemon=False).start()\n"
        "answer = 1",
    )
    assert value(r) == 1
    assert r.seconds < LIMITS.wall_seconds


def _filtered(program: bytes, arch: int, nr: int, first: int = 0) -> int:
    """What the seccomp program returns for one system call: a classic-BPF interpreter of the
    four instructions the filter uses, over seccomp_data (nr, arch, ip, args)."""
    data = struct.pack("=iIQ6Q", nr, arch, 0, first, 0, 0, 0, 0, 0)
    code = [struct.unpack("HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]
    pc, a = 0, 0
    while True:
        op, jt, jf, k = code[pc]
        if op == 0x20:  # ld word at k
            a = struct.unpack_from("=I", data, k)[0]
        elif op == 0x06:  # ret k
            return k
        else:
            taken = {0x15: a == k, 0x35: a >= k, 0x45: bool(a & k)}[op]
            pc += jt if taken else jf
        pc += 1


ALLOW, KILL = 0x7FFF0000, 0x80000000


def errno(number: int) -> int:
    return 0x00050000 | number


X86_64, AARCH64, I386, ARM = 0xC000003E, 0xC00000B7, 0x40000003, 0x40000028


@pytest.mark.parametrize(
    ("arch", "audit", "nr", "first", "expected"),
    [
        ("x86_64", X86_64, 0, 0, ALLOW),  # read
        ("x86_64", X86_64, 41, 1, ALLOW),  # socket(AF_UNIX)
        ("x86_64", X86_64, 41, 2, errno(13)),  # socket(AF_INET)
        ("x86_64", X86_64, 41, 10, errno(13)),  # socket(AF_INET6)
        ("x86_64", X86_64, 41, 16, errno(13)),  # socket(AF_NETLINK)
        ("x86_64", X86_64, 53, 2, errno(13)),  # socketpair(AF_INET)
        ("x86_64", X86_64, 57, 0, errno(11)),  # fork
        ("x86_64", X86_64, 58, 0, errno(11)),  # vfork
        ("x86_64", X86_64, 56, 0x11, errno(11)),  # clone as fork does it
        ("x86_64", X86_64, 56, 0x3D0F00, ALLOW),  # clone of a thread
        ("x86_64", X86_64, 435, 0, errno(38)),  # clone3
        ("x86_64", X86_64, 112, 0, errno(1)),  # setsid
        ("x86_64", X86_64, 321, 5, errno(1)),  # bpf
        ("x86_64", X86_64, 425, 0, errno(1)),  # io_uring_setup
        ("x86_64", X86_64, 0x40000000 + 57, 0, KILL),  # fork of the x32 ABI
        ("x86_64", I386, 2, 0, KILL),  # fork through int 0x80
        ("x86_64", I386, 66, 0, KILL),  # setsid through int 0x80
        ("aarch64", AARCH64, 63, 0, ALLOW),  # read
        ("aarch64", AARCH64, 198, 1, ALLOW),  # socket(AF_UNIX)
        ("aarch64", AARCH64, 198, 2, errno(13)),  # socket(AF_INET)
        ("aarch64", AARCH64, 220, 0x11, errno(11)),  # clone as fork does it
        ("aarch64", AARCH64, 220, 0x3D0F00, ALLOW),  # clone of a thread
        ("aarch64", AARCH64, 435, 0, errno(38)),  # clone3
        ("aarch64", AARCH64, 157, 0, errno(1)),  # setsid
        ("aarch64", AARCH64, 280, 5, errno(1)),  # bpf
        ("aarch64", ARM, 2, 0, KILL),  # fork of arm32
        ("aarch64", X86_64, 57, 0, KILL),  # another architecture altogether
    ],
)
def test_the_syscall_filter_of_each_architecture(
    arch: str, audit: int, nr: int, first: int, expected: int
) -> None:
    program = confinement.filter_program(arch, refuse_processes=True)
    assert _filtered(program, audit, nr, first) == expected


def test_threads_and_processes_may_be_allowed_by_the_filter() -> None:
    program = confinement.filter_program("x86_64", refuse_processes=False)
    assert _filtered(program, X86_64, 57) == ALLOW
    assert _filtered(program, X86_64, 56, 0x11) == ALLOW
    assert _filtered(program, X86_64, 41, 2) == errno(13)  # the network stays closed


def test_every_bound_holds_here_or_the_machine_says_which_not(pool: Pool) -> None:
    held = pool.confinement()
    assert set(held) == set(BOUNDS)
    missing = sorted(name for name, holds in held.items() if not holds)
    if missing and os.environ.get("CI") != "true":
        pytest.skip(f"this kernel lacks what these bounds need: {missing}")
    assert not missing


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("import os\nanswer = os.geteuid() != 0 and os.getuid() != 0", True),
        ("import socket\nanswer = socket.socketpair()[0].family.name", "AF_UNIX"),
        (
            "import socket\ntry:\n    socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "    answer = 'udp'\nexcept OSError as e:\n    answer = e.errno",
            13,
        ),
        ("import os\ntry:\n    os.setsid()\nexcept OSError as e:\n    answer = e.errno", 1),
        ("import os\ntry:\n    os.nice(-1)\nexcept OSError as e:\n    answer = e.errno", 1),
        (
            # small stacks: the thread bound, not the memory bound, is what stops them
            "import threading, time\nthreading.stack_size(256 * 1024)\nn = 0\n"
            "try:\n    for _ in range(100):\n"
            "        threading.Thread(target=time.sleep, args=(2,), daemon=True).start()\n"
            "        n += 1\nexcept RuntimeError:\n    pass\nanswer = n",
            LIMITS.threads,
        ),
        (
            "n = 0\ntry:\n    for i in range(LIMIT):\n        open(f'f{i}', 'w').close()\n"
            "        n += 1\nexcept OSError as e:\n    answer = (n < LIMIT, e.errno)",
            (True, 28),
        ),
    ],
)
def test_the_child_is_unprivileged_and_bounded(pool: Pool, code: str, expected: object) -> None:
    held = pool.confinement()
    if not all(held.values()) and os.environ.get("CI") != "true":
        pytest.skip("not every bound of the sandbox holds on this kernel")
    r = run(pool, Cell(code.replace("LIMIT", str(LIMITS.scratch_files + 1)), "answer"))
    assert value(r) == expected, r


def test_a_syscall_of_another_architecture_ends_the_run_and_keeps_what_came_before(
    pool: Pool,
) -> None:
    if platform.machine() != "x86_64":
        pytest.skip("the i386 entry is an x86_64 matter")
    i386_fork = (
        "import ctypes, mmap\n"
        "page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\n"
        "page.write(bytes([0xB8, 2, 0, 0, 0, 0xCD, 0x80, 0xC3]))\n"
        "ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))()\n"
        "late = 1"
    )
    r = run(pool, ANSWER_CELL, i386_fork, names=("answer", "late"))
    assert value(r) == 5
    assert "late" not in r.answers
    assert r.signal == signal.SIGSYS


def test_a_time_bound_does_not_count_the_time_waited_for_a_core_up_to_its_stretch() -> None:
    from autograder.sandbox.child import time_left, waited

    assert time_left(10, elapsed=4, waiting=0) == 6
    assert time_left(10, elapsed=11, waiting=0) == 0
    assert time_left(10, elapsed=12, waiting=5) == 3  # it ran 7 s of the 10
    assert time_left(10, elapsed=STRETCH * 10 - 1, waiting=25) == 1  # the stretch ends it first
    assert time_left(10, elapsed=STRETCH * 10, waiting=29) == 0
    assert waited(b"123456 2500000000 17\n") == 2.5
    assert waited(b"") == 0
