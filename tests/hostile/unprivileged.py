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

NOBODY = 65534
ROOT = Path(__file__).resolve().parents[2]


def _hidden_by(path: str) -> str | None:
    parts = Path(os.path.realpath(path)).parts[1:]
    for depth in range(1, len(parts)):
        folder = "/" + "/".join(parts[:depth])
        if not os.stat(folder).st_mode & 0o001:
            return folder
    return None


def missing_tools() -> list[str]:
    return [tool for tool in ("unshare", "setpriv", "mount") if shutil.which(tool) is None]


def command(argv: list[str], home: Path) -> list[str]:
    """`argv` as nobody, with `home` as its home, everything the grader reads within reach."""
    wanted = sorted({os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, ROOT)})
    outermost = [p for p in wanted if not any(p.startswith(q + "/") for q in wanted)]
    lines = ["set -e"]
    covers: dict[str, list[str]] = {}
    for path in outermost:
        cover = _hidden_by(path)
        if cover is not None:
            covers.setdefault(cover, []).append(path)
    hold = home / ".hold"
    for cover, paths in covers.items():
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
