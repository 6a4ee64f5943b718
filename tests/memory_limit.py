"""Run snippets in a fresh interpreter whose address space is capped a little above idle.

A memory bomb that a reader fails to refuse then dies with MemoryError (or a failed allocation)
inside the child, so the test fails instead of the machine. Several cases share one child (one
interpreter start, which dominates the time); each prints its own result line. Linux only
(RLIMIT_AS, /proc).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

HEADROOM = 1536 * 1024**2
"""Address space the snippets may add to the idle interpreter (numpy, torch, OpenCV, Pillow loaded)."""

needs_rlimit = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                  reason="RLIMIT_AS and /proc are Linux's")

_PRELUDE = """
import json, resource, traceback
import cv2, numpy, torch, PIL.Image  # the idle interpreter the limit is measured above
import translator.checkpoints, translator.imageio
from translator.errors import TranslatorError

def _address_space():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024

_limit = _address_space() + {headroom}
resource.setrlimit(resource.RLIMIT_AS, (_limit, _limit))
_results = {{}}

_peak = {{}}

def case(name, function):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        function()
        _results[name] = "no error"
    except TranslatorError as exc:
        _results[name] = f"{{type(exc).__name__}}: {{exc}}"
    except BaseException as exc:
        _results[name] = "CRASH " + "".join(traceback.format_exception_only(exc)).strip()
    _peak[name] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024
"""


def run_cases(code: str, *, headroom: int = HEADROOM, timeout: float = 300) -> dict[str, Any]:
    """Run `code` (dedented) under the cap. The code calls `case(name, function)` for each case;
    returns name -> "ErrorType: message", "no error", or "CRASH ..." (any other exception,
    MemoryError included), and "peak MB" -> {name: how far the case raised the child's peak
    resident memory, in MiB}. Fails the calling test when the child itself dies."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    script = (_PRELUDE.format(headroom=headroom) + textwrap.dedent(code)
              + "\nprint('RESULTS ' + json.dumps({**_results, 'peak MB': _peak}))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout,
                            env=env, check=False)
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULTS ")]
    output = (result.stdout + result.stderr)[-3000:]
    assert result.returncode == 0 and lines, f"exit {result.returncode}:\n{output}"
    return json.loads(lines[-1][len("RESULTS "):])
