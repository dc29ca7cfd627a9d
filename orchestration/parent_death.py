"""Becomes PROGRAM once the kernel is told to SIGTERM this process when the launcher dies (Linux).

    python orchestration/parent_death.py LAUNCHER_PID PROGRAM [ARG ...]   # e.g. /usr/bin/python3 -m perception

The launcher used to ask for the signal in a preexec_fn, between fork and exec. Python code there can
deadlock the child when the launcher has other threads, and gRPC's health probes give it some: the
child then never starts and Popen waits for it forever. Here the request runs after exec, in a process
of its own; the signal survives the exec into the service. Run as a file, not `-m`, so that nothing of
the longwatch packages is imported before the exec.
"""

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_EXIT_LAUNCHER_GONE = 1


def main(launcher_pid: int, program: list[str]) -> None:
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != launcher_pid:  # the launcher died before the request: no signal will come
        sys.exit(_EXIT_LAUNCHER_GONE)
    os.execv(program[0], program)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2:])
