"""Start-up time of the desktop app: process start to window visible, and to plugins ready.

    python benchmarks/gui_startup.py [--repeat 3] [--json]

Each run starts a fresh Python process that runs the real `translator` entry point (no images),
and reports, measured from just before the process was spawned:
  visible_s  the main window's first expose/paint (target: under 2 s on a 2-core machine),
  ready_s    plugins, PyTorch and the device list loaded in the background (`ready` signal).
Without a display the app renders offscreen (QT_QPA_PLATFORM=offscreen).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication
import translator.gui.main_window as mw

class Probe(QObject):
    seen = False
    def eventFilter(self, obj, event):
        if not Probe.seen and event.type() in (QEvent.Type.Expose, QEvent.Type.Paint) and obj.isWidgetType() \
                and obj.isWindow() and obj.isVisible():
            Probe.seen = True
            print("visible", time.time(), flush=True)
        return False

probe = Probe()
original_init = mw.MainWindow.__init__
def init(self, *args, **kwargs):
    original_init(self, *args, **kwargs)
    QApplication.instance().installEventFilter(probe)
    def ready():
        print("ready", time.time(), flush=True)
        QTimer.singleShot(0, self.close)
    self.ready.connect(ready)
mw.MainWindow.__init__ = init
from translator.cli.main import main
sys.exit(main([]))
"""


def run_once() -> dict[str, float]:
    env = dict(os.environ)
    if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        env["QT_QPA_PLATFORM"] = "offscreen"
    env.setdefault("TRANSLATOR_HOME", tempfile.mkdtemp(prefix="translator-bench-"))
    start = time.time()
    result = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=300, check=False)
    times = {}
    for line in result.stdout.splitlines():
        name, _, stamp = line.partition(" ")
        if name in ("visible", "ready"):
            times[f"{name}_s"] = float(stamp) - start
    if "visible_s" not in times:
        raise SystemExit(f"the app did not show a window:\n{result.stderr[-2000:]}")
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description="Start-up time of the desktop app.")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runs = [run_once() for _ in range(args.repeat)]
    summary = {key: statistics.median(r[key] for r in runs if key in r) for key in ("visible_s", "ready_s")}
    summary["runs"] = runs
    summary["cpus"] = os.cpu_count()
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"window visible: {summary['visible_s']:.2f} s (median of {args.repeat}; target < 2 s)")
        print(f"plugins ready:  {summary['ready_s']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
