"""Confining a sandbox child with the kernel's own means: Landlock for files, network and signals,
seccomp for starting processes. Self-contained: the sandbox loads this file without the package.

Landlock leaves the child read access to the Python installation and the system's libraries only,
write access to its own scratch folder, no TCP and no signals to processes outside the sandbox (so
neither the course's files nor the grader's processes are within reach). Where the kernel lacks
Landlock, `confine_files` says so and the rlimits and the scratch folder remain the only bounds.
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct
import sys
from collections.abc import Iterable

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.restype = ctypes.c_int

# x86_64 and aarch64 share the Landlock syscall numbers (they are new enough to be uniform)
LANDLOCK_CREATE_RULESET, LANDLOCK_ADD_RULE, LANDLOCK_RESTRICT_SELF = 444, 445, 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
READ = EXECUTE | READ_FILE | READ_DIR
# every file-system right of ABI 1 (13 bits); later ABIs add REFER, TRUNCATE and IOCTL_DEV
ALL_V1 = (1 << 13) - 1
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 where there is none."""
    version = _libc.syscall(LANDLOCK_CREATE_RULESET, None, 0, LANDLOCK_CREATE_RULESET_VERSION)
    return max(int(version), 0)


def readable_roots() -> list[str]:
    """What a child may read: the interpreter, its libraries and site-packages, the system's files."""
    roots = [sys.base_prefix, sys.prefix, *sys.path]
    roots += [
        "/usr",
        "/lib",
        "/lib64",
        "/bin",
        "/etc",
        "/dev",
        "/proc/self",
        f"/proc/{os.getpid()}",
    ]
    return [r for r in dict.fromkeys(roots) if r and os.path.exists(r)]


def confine_files(readable: Iterable[str], writable: Iterable[str]) -> bool:
    """Restrict this process and its descendants to the given folders (True if Landlock did)."""
    abi = landlock_abi()
    if abi < 1:
        return False
    handled = ALL_V1 | (REFER if abi >= 2 else 0) | (TRUNCATE if abi >= 3 else 0)
    handled |= IOCTL_DEV if abi >= 5 else 0
    net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    attr = struct.pack("QQQ", handled, net, scoped)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    buffer = ctypes.create_string_buffer(attr[:size], size)
    ruleset = _libc.syscall(LANDLOCK_CREATE_RULESET, buffer, ctypes.c_size_t(size), 0)
    if ruleset < 0:
        return False
    try:
        for path in readable:
            _allow(ruleset, path, READ & handled)
        for path in writable:
            _allow(ruleset, path, handled & ~(REFER if abi >= 2 else 0))
        if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return False
        return _libc.syscall(LANDLOCK_RESTRICT_SELF, ruleset, 0) == 0
    finally:
        os.close(ruleset)


def _allow(ruleset: int, path: str, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if not os.path.isdir(path):  # on a file only the rights of files apply
            access &= EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
        rule = ctypes.create_string_buffer(struct.pack("=Qi", access, fd), 12)
        _libc.syscall(LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, rule, 0)
    finally:
        os.close(fd)


# seccomp: the classic BPF filter that refuses to start processes but lets threads start
_BPF_LD_W_ABS, _BPF_JEQ_K, _BPF_JGE_K, _BPF_JSET_K, _BPF_RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
_X32_SYSCALL_BIT = 0x40000000
_RET_ALLOW, _RET_ERRNO = 0x7FFF0000, 0x00050000
_AUDIT_ARCH_X86_64 = 0xC000003E
_NR_CLONE, _NR_FORK, _NR_VFORK, _NR_CLONE3 = 56, 57, 58, 435
_CLONE_THREAD = 0x00010000
_EAGAIN, _ENOSYS = 11, 38


def refuse_processes() -> bool:
    """fork, vfork and clone without CLONE_THREAD fail with EAGAIN (as when a process limit is hit);
    clone3 reports ENOSYS, so that the C library starts threads with clone. x86_64 only."""
    if platform.machine() != "x86_64":
        return False

    def op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
        return struct.pack("HBBI", code, jt, jf, k)

    program = b"".join(
        [
            op(_BPF_LD_W_ABS, 4),  # the architecture
            op(_BPF_JEQ_K, _AUDIT_ARCH_X86_64, 1, 0),
            op(_BPF_RET_K, _RET_ALLOW),
            op(_BPF_LD_W_ABS, 0),  # the system call's number
            op(_BPF_JGE_K, _X32_SYSCALL_BIT, 7, 0),  # the x32 numbering: refused outright
            op(_BPF_JEQ_K, _NR_FORK, 6, 0),
            op(_BPF_JEQ_K, _NR_VFORK, 5, 0),
            op(_BPF_JEQ_K, _NR_CLONE3, 6, 0),
            op(_BPF_JEQ_K, _NR_CLONE, 1, 0),
            op(_BPF_RET_K, _RET_ALLOW),
            op(_BPF_LD_W_ABS, 16),  # clone's flags (low word of the first argument)
            op(_BPF_JSET_K, _CLONE_THREAD, 1, 0),
            op(_BPF_RET_K, _RET_ERRNO | _EAGAIN),
            op(_BPF_RET_K, _RET_ALLOW),
            op(_BPF_RET_K, _RET_ERRNO | _ENOSYS),
        ]
    )
    count = len(program) // 8
    filters = ctypes.create_string_buffer(program, len(program))
    prog = struct.pack("HxxxxxxQ", count, ctypes.addressof(filters))
    prog_buffer = ctypes.create_string_buffer(prog, len(prog))
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog_buffer, 0, 0) == 0
