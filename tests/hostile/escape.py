"""Hostile cases that try to leave the sandbox: root's rights, capabilities, another architecture's
system calls, the network, the scheduler, unbounded threads and scratch space.

Each attack sets `escaped`; the cell then answers `slide_error` right only if the attack worked.
Every case expects 0 for `slide_error` (the attack failed) and full marks for the rest.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import nbformat
from kit import ASSIGNMENT, WRONG, WRONG_OPTION, Case, in_cell

from autograder import demo

RIGHT = demo.answers(ASSIGNMENT, "anna")["slide_error"]


def attempt(code: str) -> Callable[[nbformat.NotebookNode], nbformat.NotebookNode]:
    """`code` sets `escaped`; a working escape would earn the point of slide_error."""
    return in_cell(
        "slide_error", f"escaped = False\n{code}\n{RIGHT}\nif not escaped:\n    {WRONG_OPTION}"
    )


def _tried(statements: str) -> str:
    """`escaped` is True where `statements` run without an error."""
    return f"try:\n{textwrap.indent(statements, '    ')}\n    escaped = True\nexcept Exception:\n    pass"


LIBC = "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
# a system call that passed its capability check fails with EINVAL or EFAULT, not EPERM
PASSES_CHECK = "escaped = result == 0 or ctypes.get_errno() not in (1, 13)"
# machine code for x86_64: `mov eax, N; int 0x80; ret`, the 32-bit entry into the kernel
I386_CALL = """\
import ctypes, mmap
page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
page.write(bytes([0xB8, {nr}, 0, 0, 0, 0xCD, 0x80, 0xC3]))
call = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))
escaped = call() >= 0
"""

CASES: tuple[Case, ...] = (
    Case(
        "still_root",
        "escape",
        "runs as root",
        attempt("import os\nescaped = 0 in (os.getuid(), os.geteuid(), os.getgid())"),
        WRONG,
    ),
    Case(
        "capabilities_kept",
        "escape",
        "holds a capability (effective, permitted or bounding set)",
        attempt(
            "sets = [line.split()[1] for line in open('/proc/self/status')"
            " if line.startswith(('CapEff', 'CapPrm', 'CapBnd'))]\n"
            "escaped = any(int(s, 16) for s in sets)"
        ),
        WRONG,
    ),
    Case(
        "reads_shadow",
        "escape",
        "reads /etc/shadow and every root-only file under /etc",
        attempt(
            "import os\n"
            "for folder, _, files in os.walk('/etc'):\n"
            "    for name in files:\n"
            "        path = os.path.join(folder, name)\n"
            "        try:\n"
            "            if not os.stat(path).st_mode & 0o004:\n"
            "                open(path, 'rb').read(1)\n"
            "                escaped = True\n"
            "        except OSError:\n"
            "            pass"
        ),
        WRONG,
    ),
    Case(
        "raw_icmp_socket",
        "escape",
        "a raw ICMP socket (CAP_NET_RAW)",
        attempt(_tried("import socket\nsocket.socket(socket.AF_INET, socket.SOCK_RAW, 1)")),
        WRONG,
    ),
    Case(
        "udp_datagram",
        "escape",
        "a UDP datagram to 127.0.0.1",
        attempt(
            _tried(
                "import socket\nsocket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
                ".sendto(b'grade me', ('127.0.0.1', 9))"
            )
        ),
        WRONG,
    ),
    Case(
        "ipv6_and_netlink",
        "escape",
        "an IPv6 socket, a netlink socket, a packet socket",
        attempt(
            "import socket\n"
            "for family, kind in ((socket.AF_INET6, socket.SOCK_DGRAM),"
            " (socket.AF_NETLINK, socket.SOCK_RAW), (socket.AF_PACKET, socket.SOCK_RAW)):\n"
            "    try:\n"
            "        socket.socket(family, kind)\n"
            "        escaped = True\n"
            "    except OSError:\n"
            "        pass"
        ),
        WRONG,
    ),
    Case(
        "raises_its_priority",
        "escape",
        "nice −10 and SCHED_FIFO, to outrank the grader",
        attempt(
            "import os\n"
            + _tried("os.nice(-10)")
            + "\n"
            + _tried("os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))")
        ),
        WRONG,
    ),
    Case(
        "immutable_file",
        "escape",
        "chattr +i on a scratch file (CAP_LINUX_IMMUTABLE), to outlive the cleanup",
        attempt(
            "import fcntl, struct\n"
            "with open('keep', 'wb') as f:\n"
            "    try:\n"
            "        fcntl.ioctl(f, 0x40086602, struct.pack('l', 0x10))\n"
            "        escaped = True\n"
            "    except OSError:\n"
            "        pass"
        ),
        WRONG,
    ),
    Case(
        "reboot_and_hostname",
        "escape",
        "reboot(2) and sethostname(2) pass their capability checks",
        attempt(
            LIBC
            + "result = libc.reboot(0)\n"
            + PASSES_CHECK
            + "\nresult = libc.sethostname(b'x', 1)\nescaped = escaped or result == 0"
            " or ctypes.get_errno() != 1"
        ),
        WRONG,
    ),
    Case(
        "bpf_program",
        "escape",
        "bpf(BPF_PROG_LOAD)",
        attempt(
            LIBC
            + "attr = ctypes.create_string_buffer(128)\n"
            + "result = libc.syscall(321, 5, attr, 128)\n"
            + PASSES_CHECK
        ),
        WRONG,
    ),
    Case(
        "io_uring_and_ptrace",
        "escape",
        "io_uring_setup, ptrace of the worker, a user namespace, process_vm_readv",
        attempt(
            LIBC
            + "import os\n"
            + "params = ctypes.create_string_buffer(120)\n"
            + "escaped = libc.syscall(425, 4, params) >= 0\n"
            + "escaped = escaped or libc.ptrace(16, os.getppid(), 0, 0) == 0\n"
            + "escaped = escaped or libc.unshare(0x10000000) == 0\n"
            + "escaped = escaped or libc.syscall(310, os.getppid(), 0, 0, 0, 0, 0) == 0"
        ),
        WRONG,
    ),
    Case(
        "i386_fork",
        "escape",
        "fork through the i386 entry (int 0x80), then setsid, to outlive the run",
        attempt(I386_CALL.format(nr=2)),
        WRONG,
        "Systemaufruf",
    ),
    Case(
        "x32_call",
        "escape",
        "a system call of the x32 ABI",
        attempt(LIBC + "escaped = libc.syscall(0x40000000 + 39) > 0"),
        WRONG,
        "Systemaufruf",
    ),
    Case(
        "new_session",
        "escape",
        "setsid and setpgid, to leave the process group the worker ends",
        attempt("import os\n" + _tried("os.setsid()") + "\n" + _tried("os.setpgid(0, 0)")),
        WRONG,
    ),
    Case(
        "thread_flood",
        "escape",
        "10,000 raw threads",
        attempt(
            "import _thread, time\n"
            "started = 0\n"
            "try:\n"
            "    for _ in range(10_000):\n"
            "        _thread.start_new_thread(time.sleep, (30,))\n"
            "        started += 1\n"
            "except RuntimeError:\n"
            "    pass\n"
            "escaped = started > 1000"
        ),
        WRONG,
    ),
    Case(
        "scratch_filled",
        "escape",
        "200 files of 1 MiB in the scratch folder",
        attempt(
            "written = 0\n"
            "try:\n"
            "    for i in range(200):\n"
            "        with open(f'fill{i}', 'wb') as f:\n"
            "            f.write(b'x' * 2**20)\n"
            "        written += 1\n"
            "except OSError:\n"
            "    pass\n"
            "escaped = written >= 100"
        ),
        WRONG,
    ),
    Case(
        "scratch_files",
        "escape",
        "100,000 empty files in the scratch folder",
        attempt(
            "made = 0\n"
            "try:\n"
            "    for i in range(100_000):\n"
            "        open(f'e{i}', 'wb').close()\n"
            "        made += 1\n"
            "except OSError:\n"
            "    pass\n"
            "escaped = made == 100_000"
        ),
        WRONG,
    ),
    Case(
        "graders_memory",
        "escape",
        "reads the worker's memory through /proc",
        attempt(_tried("import os\nopen(f'/proc/{os.getppid()}/mem', 'rb').read(1)")),
        WRONG,
    ),
)
