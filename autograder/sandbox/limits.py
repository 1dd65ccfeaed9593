"""The bounds of one submission: what the grader's options set and the sandbox enforces.

Loaded by the CLI to show their defaults, so it imports nothing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """The bounds of one submission (DESIGN.md, principle 3); every one has a CLI option."""

    wall_seconds: float = 60.0
    cell_seconds: float = 20.0
    function_seconds: float = 10.0
    cpu_seconds: float = 60.0
    memory_bytes: int = 2 * 1024**3
    output_bytes: int = 1024**2
    result_bytes: int = 16 * 1024**2
    # processes a submission may start besides itself; 0 refuses them all (threads still run)
    processes: int = 0
    # threads besides the main one
    threads: int = 32
    # the scratch folder (home and temporary folder) as a whole: bytes and files
    scratch_bytes: int = 64 * 1024**2
    scratch_files: int = 4096
    # run no student code where a bound of the sandbox does not hold on this machine
    confined: bool = False
