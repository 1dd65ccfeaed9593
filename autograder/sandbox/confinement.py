"""Confining a sandbox child with the kernel's own means: an unprivileged identity without
capabilities, a size-bounded scratch folder, Landlock for files and signals, seccomp for syscalls.

Self-contained (the sandbox loads this file without the package). Each step returns whether it
held, so that the grader can say which bounds hold on this machine and refuse to grade without
them when told to. Where the kernel lacks a feature, the rlimits and the cleared environment remain.
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
_libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
_libc.unshare.argtypes = [ctypes.c_int]

# x86_64 and aarch64 share the Landlock syscall numbers (they are new enough to be uniform)
LANDLOCK_CREATE_RULESET, LANDLOCK_ADD_RULE, LANDLOCK_RESTRICT_SELF = 444, 445, 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 47, 4

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
READ = EXECUTE | READ_FILE | READ_DIR
# every file-system right of ABI 1 (13 bits); later ABIs add REFER, TRUNCATE and IOCTL_DEV
ALL_V1 = (1 << 13) - 1
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_MOVE = 2, 4, 8, 1 << 12, 1 << 13
MS_REC, MS_PRIVATE = 1 << 14, 1 << 18
# a child started by root runs as SANDBOX_UID + its pid: an identity of its own, which owns no
# file, shares no process with another submission and which RLIMIT_NPROC counts alone
SANDBOX_UID = 3_000_000_000


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


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _check(result: int) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))


def unprivileged(
    scratch: str, scratch_bytes: int, scratch_files: int, readable: Iterable[str]
) -> dict[str, bool]:
    """Leave root behind and put a size-bounded tmpfs over the scratch folder; what held.

    Started by root: a mount namespace of its own, the tmpfs, the capability bounding set emptied,
    then an identity of its own (setuid clears every capability). Started by anybody else: a user
    namespace (the same uid inside) for the mount, then every capability it gave dropped. Either way
    `no_new_privs` follows with Landlock, so no exec can gain privileges again.
    """
    held = {"identity": False, "capabilities": False, "scratch": False, "alone": False}
    uid, gid = os.getuid(), os.getgid()
    root = os.geteuid() == 0
    target = SANDBOX_UID + os.getpid() if root else uid
    try:
        _check(_libc.unshare(CLONE_NEWNS if root else CLONE_NEWUSER | CLONE_NEWNS))
        held["alone"] = not root  # in a user namespace of its own, RLIMIT_NPROC counts it alone
        if not root:
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"{uid} {uid} 1")
            _write("/proc/self/gid_map", f"{gid} {gid} 1")
        _check(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None))
        if root:
            _expose(readable, scratch)
        owner = f"uid={target},gid={target}" if root else f"uid={uid},gid={gid}"
        options = f"size={scratch_bytes},nr_inodes={scratch_files},mode=0700,{owner}"
        flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
        _check(_libc.mount(b"tmpfs", scratch.encode(), b"tmpfs", flags, options.encode()))
        os.chdir(scratch)  # into the tmpfs just mounted over it
        held["scratch"] = True
    except OSError:
        pass
    bounding_set_empty = _drop_bounding_set()
    if root:
        try:
            os.chown(scratch, target, target)  # where the tmpfs could not be mounted
            os.setgroups([])
            os.setresgid(target, target, target)
            os.setresuid(target, target, target)
        except OSError:
            pass  # still root: said so, and its capabilities are cleared all the same
        held["identity"] = held["alone"] = os.getuid() != 0 and os.geteuid() != 0
    else:
        held["identity"] = True  # not root to begin with: the user's own rights, no more
    held["capabilities"] = _clear_capabilities() and bounding_set_empty
    return held


def hidden_by(path: str) -> str | None:
    """The outermost folder above `path` that others may not enter (a home of mode 0700)."""
    parts = os.path.realpath(path).split(os.sep)[1:]
    for depth in range(1, len(parts)):
        folder = os.sep + os.path.join(*parts[:depth])
        if not os.stat(folder).st_mode & 0o001:
            return folder
    return None


def covers(readable: Iterable[str]) -> dict[str, list[str]]:
    """The folders others may not enter, each with the outermost of `readable` behind it."""
    wanted = sorted({os.path.realpath(p) for p in readable if os.path.exists(p)})
    outermost = [p for p in wanted if not any(p.startswith(q + os.sep) for q in wanted)]
    by_cover: dict[str, list[str]] = {}
    for path in outermost:
        cover = hidden_by(path)
        if cover is not None:
            by_cover.setdefault(cover, []).append(path)
    return by_cover


def _expose(readable: Iterable[str], holders: str) -> None:
    """Make what the child must read reachable for an identity of its own.

    Python installed under root's home (pyenv, a virtual environment in /root) lies behind a
    folder of mode 0700. In the child's own mount namespace that folder is covered by an empty
    tmpfs and only the installation's folders are mounted back into it, so the child reaches
    them and nothing else of the home. The folders themselves keep their modes.
    """
    for cover, paths in covers(readable).items():
        held = []
        for index, path in enumerate(paths):
            holder = os.path.join(holders, f".hold{index}")
            os.mkdir(holder, 0o700)
            _check(_libc.mount(path.encode(), holder.encode(), None, MS_BIND | MS_REC, None))
            held.append((holder, path))
        flags = MS_NOSUID | MS_NODEV
        _check(_libc.mount(b"tmpfs", cover.encode(), b"tmpfs", flags, b"mode=0755,size=65536"))
        for holder, path in held:
            os.makedirs(path, 0o755, exist_ok=True)
            _check(_libc.mount(holder.encode(), path.encode(), None, MS_MOVE, None))
            os.rmdir(holder)


def _drop_bounding_set() -> bool:
    dropped = True
    for capability in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            # past the last capability the kernel knows: EINVAL, and the set is empty
            dropped = dropped and ctypes.get_errno() == 22
            break
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    return dropped


def _clear_capabilities() -> bool:
    """Empty the effective, permitted and inheritable sets (capset, version 3)."""
    header = struct.pack("Ii", 0x20080522, 0)
    data = bytes(24)
    if _libc.syscall(_numbers(_ARCH)["capset"], header, data) != 0:
        return False
    # read as bytes: a codec not imported yet may no longer be importable here
    with open("/proc/self/status", "rb") as status:
        lines = status.read().split(b"\n")
    sets = [line.split()[1] for line in lines if line.startswith((b"CapEff", b"CapPrm"))]
    return len(sets) == 2 and all(int(s, 16) == 0 for s in sets)


def confine_files(readable: Iterable[str], writable: Iterable[str]) -> dict[str, bool]:
    """Restrict this process and its descendants to the given folders; what held."""
    abi = landlock_abi()
    held = {"files": False, "signals": False}
    if abi < 1:
        return held
    handled = ALL_V1 | (REFER if abi >= 2 else 0) | (TRUNCATE if abi >= 3 else 0)
    handled |= IOCTL_DEV if abi >= 5 else 0
    net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    attr = struct.pack("QQQ", handled, net, scoped)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    buffer = ctypes.create_string_buffer(attr[:size], size)
    ruleset = _libc.syscall(LANDLOCK_CREATE_RULESET, buffer, ctypes.c_size_t(size), 0)
    if ruleset < 0:
        return held
    try:
        for path in readable:
            _allow(ruleset, path, READ & handled)
        for path in writable:
            _allow(ruleset, path, handled & ~(REFER if abi >= 2 else 0))
        if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return held
        if _libc.syscall(LANDLOCK_RESTRICT_SELF, ruleset, 0) != 0:
            return held
    finally:
        os.close(ruleset)
    return {"files": True, "signals": abi >= 6}


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


# seccomp: a classic BPF filter over (architecture, syscall number, first argument)
_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
# name: (x86_64, aarch64); None where the architecture has no such call
_SYSCALLS: dict[str, tuple[int | None, int | None]] = {
    "fork": (57, None),
    "vfork": (58, None),
    "clone": (56, 220),
    "clone3": (435, 435),
    "socket": (41, 198),
    "socketpair": (53, 199),
    "capset": (126, 91),
}
# calls a submission never needs, each a way around a bound or into the kernel's attack surface:
# refused with EPERM (the process group, io_uring's own syscalls, BPF, tracing, keys, namespaces
# and mounts, another process's memory, the execution domain)
_REFUSED: dict[str, tuple[int | None, int | None]] = {
    "setsid": (112, 157),
    "setpgid": (109, 154),
    "io_uring_setup": (425, 425),
    "io_uring_enter": (426, 426),
    "io_uring_register": (427, 427),
    "bpf": (321, 280),
    "ptrace": (101, 117),
    "perf_event_open": (298, 241),
    "userfaultfd": (323, 282),
    "keyctl": (250, 219),
    "add_key": (248, 217),
    "request_key": (249, 218),
    "unshare": (272, 97),
    "setns": (308, 268),
    "mount": (165, 40),
    "umount2": (166, 39),
    "pivot_root": (155, 41),
    "chroot": (161, 51),
    "open_tree": (428, 428),
    "move_mount": (429, 429),
    "fsopen": (430, 430),
    "fsconfig": (431, 431),
    "fsmount": (432, 432),
    "fspick": (433, 433),
    "mount_setattr": (442, 442),
    "process_vm_readv": (310, 270),
    "process_vm_writev": (311, 271),
    "personality": (135, 92),
    "kcmp": (312, 272),
    "pidfd_getfd": (438, 438),
}
REFUSED = tuple(_REFUSED)
_SYSCALLS.update(_REFUSED)
_ARCH = platform.machine()
_LD_W_ABS, _JEQ_K, _JGE_K, _JSET_K, _RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
_X32_SYSCALL_BIT = 0x40000000
_RET_ALLOW, _RET_ERRNO, _RET_KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000
_CLONE_THREAD, _AF_UNIX = 0x00010000, 1
_EPERM, _EACCES, _EAGAIN, _ENOSYS = 1, 13, 11, 38


def _numbers(arch: str) -> dict[str, int]:
    """The system calls' numbers on `arch` (x86_64 or aarch64), those it has."""
    column = 0 if arch == "x86_64" else 1
    return {name: number for name, n in _SYSCALLS.items() if (number := n[column]) is not None}


def filter_program(arch: str, refuse_processes: bool) -> bytes:
    """The seccomp program for `arch`: a syscall of any other architecture (i386 through
    `int 0x80`, x32, arm32) kills the process; sockets of any family but AF_UNIX and the calls in
    REFUSED fail; with `refuse_processes`, fork, vfork and clone without CLONE_THREAD fail with
    EAGAIN (as at a process limit). clone3 reports ENOSYS always, so that the C library starts
    threads with clone, whose flags the filter can read."""
    nr = _numbers(arch)
    Op = tuple[int, int, str | None, str | None]
    code: list[Op] = [
        (_LD_W_ABS, 4, None, None),  # the architecture
        (_JEQ_K, _AUDIT_ARCH[arch], None, "kill"),
        (_LD_W_ABS, 0, None, None),  # the system call's number
    ]
    if arch == "x86_64":
        code.append((_JGE_K, _X32_SYSCALL_BIT, "kill", None))
    for name in REFUSED:
        code.append((_JEQ_K, nr[name], "eperm", None))
    code.append((_JEQ_K, nr["socket"], "family", None))
    code.append((_JEQ_K, nr["socketpair"], "family", None))
    code.append((_JEQ_K, nr["clone3"], "enosys", None))
    if refuse_processes:
        for name in ("fork", "vfork"):
            if name in nr:
                code.append((_JEQ_K, nr[name], "eagain", None))
        code.append((_JEQ_K, nr["clone"], "clone", None))
    code.append((_RET_K, _RET_ALLOW, None, None))
    labels: dict[str, list[Op]] = {
        "clone": [(_LD_W_ABS, 16, None, None), (_JSET_K, _CLONE_THREAD, "allow", "eagain")],
        "family": [(_LD_W_ABS, 16, None, None), (_JEQ_K, _AF_UNIX, "allow", "eacces")],
        "allow": [(_RET_K, _RET_ALLOW, None, None)],
        "kill": [(_RET_K, _RET_KILL_PROCESS, None, None)],
        "eperm": [(_RET_K, _RET_ERRNO | _EPERM, None, None)],
        "eagain": [(_RET_K, _RET_ERRNO | _EAGAIN, None, None)],
        "enosys": [(_RET_K, _RET_ERRNO | _ENOSYS, None, None)],
        "eacces": [(_RET_K, _RET_ERRNO | _EACCES, None, None)],
    }
    where: dict[str, int] = {}
    for label, block in labels.items():
        where[label] = len(code)
        code += block
    program = b""
    for index, (op, k, true, false) in enumerate(code):
        # a jump counts from the next instruction; None falls through
        jt = where[true] - index - 1 if true else 0
        jf = where[false] - index - 1 if false else 0
        program += struct.pack("HBBI", op, jt, jf, k & 0xFFFFFFFF)
    return program


def filter_syscalls(refuse_processes: bool) -> bool:
    """Install `filter_program` for this machine's architecture (False where it has none)."""
    if _ARCH not in _AUDIT_ARCH:
        return False
    program = filter_program(_ARCH, refuse_processes)
    filters = ctypes.create_string_buffer(program, len(program))
    prog = struct.pack("HxxxxxxQ", len(program) // 8, ctypes.addressof(filters))
    prog_buffer = ctypes.create_string_buffer(prog, len(prog))
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog_buffer, 0, 0) == 0
