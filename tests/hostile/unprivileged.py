"""Running the grader as an unprivileged user (nobody) from a test run by root.

Python installed under root's home (mode 0700) is out of nobody's reach: the command runs in a
mount namespace of its own in which that home is covered by an empty tmpfs and only the
interpreter's and the project's folders are mounted back, as the sandbox does for its children.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

from autograder.sandbox.confinement import covers

NOBODY = 65534
ROOT = Path(__file__).resolve().parents[2]


def missing_tools() -> list[str]:
    return [tool for tool in ("unshare", "setpriv", "mount") if shutil.which(tool) is None]


def command(argv: list[str], home: Path) -> list[str]:
    """`argv` as nobody, with `home` as its home, everything the grader reads within reach."""
    lines = ["set -e"]
    hold = home / ".hold"
    for cover, paths in covers([sys.base_prefix, sys.prefix, str(ROOT)]).items():
        for index, path in enumerate(paths):
            lines += [
                f"mkdir -p {hold}/{index}",
                f"mount --rbind {shlex.quote(path)} {hold}/{index}",
            ]
        lines.append(f"mount -t tmpfs -o mode=0755 tmpfs {shlex.quote(cover)}")
        for index, path in enumerate(paths):
            lines += [
                f"mkdir -p {shlex.quote(path)}",
                f"mount --move {hold}/{index} {shlex.quote(path)}",
            ]
    lines.append(
        f"exec setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups --inh-caps=-all "
        f'env HOME={shlex.quote(str(home))} "$@"'
    )
    script = "\n".join(lines)
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *argv]


def hand_over(folder: Path) -> None:
    """Make `folder` and everything in it nobody's."""
    for place, folders, files in os.walk(folder):
        for name in [*folders, *files]:
            os.lchown(os.path.join(place, name), NOBODY, NOBODY)
    os.chown(folder, NOBODY, NOBODY)
