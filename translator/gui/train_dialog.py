"""Models > Train...: train or fine-tune a translator from the app.

The run is a `translator-train` subprocess (`QProcess`), so a crash cannot take the app down.
The dialog polls the run's `--progress-jsonl` file on a timer (reading only what was appended)
and draws the loss curves and the latest sample grid. Pause touches the run's `--stop-file`: the
run saves a checkpoint and exits; Resume starts `translator-train --resume RUN`. Cancel kills the
run and discards its folder (a paused run's folder too). The Qt-free parts live in
`translator.training.monitor`.
"""
from __future__ import annotations

import datetime as _dt
import shlex
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QPointF, QProcess, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from translator.training import monitor

POLL_MS = 250
"""How often the progress file is read."""
PROBE_WARMUP, PROBE_STEPS = 2, 6
"""Measure speed: steps of the throw-away probe run, the first ones not timed."""
COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


class LossPlot(QWidget):
    """Loss curves: one polyline per loss name over the steps, each scaled to the common range,
    with a legend. At most `max_points` points per curve are drawn (evenly thinned)."""

    def __init__(self, parent: QWidget | None = None, max_points: int = 400) -> None:
        super().__init__(parent)
        self.series: dict[str, list[tuple[int, float]]] = {}
        self.max_points = max_points
        self.setMinimumSize(320, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def add(self, step: int, losses: dict[str, float]) -> None:
        for name, value in losses.items():
            if isinstance(value, (int, float)):
                self.series.setdefault(name, []).append((step, float(value)))
        self.update()

    def clear(self) -> None:
        self.series.clear()
        self.update()

    def point_count(self) -> int:
        return sum(len(points) for points in self.series.values())

    def paintEvent(self, _event: Any) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().base())
        area = QRectF(self.rect()).adjusted(40, 8, -8, -20)
        painter.setPen(self.palette().mid().color())
        painter.drawRect(area)
        points = [p for series in self.series.values() for p in series]
        if not points:
            painter.setPen(self.palette().text().color())
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, "Losses appear here once training runs")
            return
        steps = [p[0] for p in points]
        values = [p[1] for p in points]
        x0, x1 = min(steps), max(max(steps), min(steps) + 1)
        y0, y1 = min(values), max(values)
        if y1 - y0 < 1e-9:
            y0, y1 = y0 - 0.5, y1 + 0.5
        painter.setPen(self.palette().text().color())
        painter.drawText(QRectF(0, area.top() - 6, 38, 14), Qt.AlignmentFlag.AlignRight, f"{y1:.3g}")
        painter.drawText(QRectF(0, area.bottom() - 8, 38, 14), Qt.AlignmentFlag.AlignRight, f"{y0:.3g}")
        painter.drawText(QRectF(area.left(), area.bottom() + 2, area.width(), 16),
                         Qt.AlignmentFlag.AlignRight, f"step {x1}")

        def at(step: int, value: float) -> QPointF:
            return QPointF(area.left() + (step - x0) / (x1 - x0) * area.width(),
                           area.bottom() - (value - y0) / (y1 - y0) * area.height())

        for index, (name, series) in enumerate(self.series.items()):
            color = QColor(COLORS[index % len(COLORS)])
            stride = max(1, len(series) // self.max_points)
            shown = series[::stride]
            path = QPainterPath(at(*shown[0]))
            for step, value in shown[1:]:
                path.lineTo(at(step, value))
            painter.setPen(QPen(color, 1.5))
            painter.drawPath(path)
            painter.drawText(QPointF(area.left() + 6 + 70 * index, area.top() + 14), name)


class TrainDialog(QDialog):
    """Inputs, then a watched `translator-train` run. Emits `model_ready(entry)` with the store
    entry of the exported model when a run finishes. Closing the dialog only hides it; the run
    goes on."""

    model_ready = Signal(object)
    state_changed = Signal(str)  # "running", "paused", "done", "failed", "cancelled"
    _checked = Signal(object)  # from the check thread: what to do next, in the GUI thread

    def __init__(self, registry: Any, store: Any, device: str = "auto", parent: QWidget | None = None,
                 out: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train a translator")
        self.registry, self.store, self.out = registry, store, out
        self.process: QProcess | None = None
        self.state = "idle"
        self.run_name = ""
        self._work = Path(tempfile.mkdtemp(prefix="translator-train-"))
        self._reader: monitor.ProgressReader | None = None
        self._session_start: tuple[int, float] | None = None
        self._last_step: dict[str, Any] = {}
        self._end: dict[str, Any] = {}
        self._cancelled = False
        self._rates: dict[tuple[str, str], Any] = {}
        self.probe: QProcess | None = None
        self._checking = False
        self._probe_reader: monitor.ProgressReader | None = None
        self._probe_events: list[dict[str, Any]] = []
        self._folder_edits: dict[str, QLineEdit] = {}
        self._build(device)
        self._timer = QTimer(self, interval=POLL_MS)
        self._timer.timeout.connect(self.poll)
        self._checked.connect(self._on_checked)
        self._plugin_changed()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # ---- layout --------------------------------------------------------------------------

    def _build(self, device: str) -> None:
        self.plugin_picker = QComboBox()
        for name, spec in sorted(self.registry.translators.items()):
            if spec.training is not None:
                self.plugin_picker.addItem(spec.title or name, name)
        self.plugin_picker.currentIndexChanged.connect(lambda _i: self._plugin_changed())
        self.folders_form = QFormLayout()
        self.base_picker = QComboBox()
        self.steps = QSpinBox(minimum=1, maximum=10_000_000, value=1000, singleStep=100)
        self.minutes = QDoubleSpinBox(minimum=0, maximum=100_000, decimals=1, value=0)
        self.minutes.setSpecialValueText("no limit")
        self.minutes.setToolTip("Wall-clock budget (--time-limit): the run ends and saves its model when "
                                "the time is up or the steps are done, whichever comes first")
        self.size = QSpinBox(minimum=16, maximum=4096, singleStep=16)
        self.device_picker = QComboBox()
        for name in dict.fromkeys([device, "auto", "cpu"]):
            self.device_picker.addItem(name)
        self.name_edit = QLineEdit(placeholderText="automatic (translator-date-time)")
        self.extra_edit = QLineEdit(placeholderText="further translator-train options, e.g. --lr 1e-4")
        self.estimate = QLabel(wordWrap=True)
        self.estimate.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.MinimumExpanding)
        for widget in (self.steps, self.minutes, self.size):
            widget.valueChanged.connect(lambda _v: self._estimate())
        self.device_picker.currentIndexChanged.connect(lambda _i: self._estimate())

        form = QFormLayout()
        form.addRow("Translator", self.plugin_picker)
        form.addRow(self.folders_form)
        form.addRow("Start from", self.base_picker)
        form.addRow("Steps", self.steps)
        form.addRow("Time budget (min)", self.minutes)
        form.addRow("Crop size (px)", self.size)
        form.addRow("Device", self.device_picker)
        form.addRow("Name", self.name_edit)
        form.addRow("Options", self.extra_edit)
        self.measure_button = QPushButton("Measure speed")
        self.measure_button.setToolTip(f"Time {PROBE_STEPS - PROBE_WARMUP} training steps with these settings "
                                       "on this device (a throw-away run) to estimate the time")
        self.measure_button.clicked.connect(self.measure)
        estimate_row = QHBoxLayout()
        estimate_row.addWidget(self.estimate, 1)
        estimate_row.addWidget(self.measure_button)
        form.addRow("Time", estimate_row)

        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Save a checkpoint and stop; Resume continues the run")
        self.resume_button = QPushButton("Resume")
        self.cancel_button = QPushButton("Cancel run")
        self.cancel_button.setToolTip("Stop at once and delete the run folder (its checkpoints and samples)")
        close_button = QPushButton("Close")
        close_button.setToolTip("Hide this window; a run goes on")
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.pause)
        self.resume_button.clicked.connect(self.resume)
        self.cancel_button.clicked.connect(self.cancel)
        close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.resume_button, self.cancel_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close_button)

        self.progress = QProgressBar()
        self.status = QLabel(wordWrap=True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.plot = LossPlot()
        self.sample = QLabel("The latest sample grid appears here", alignment=Qt.AlignmentFlag.AlignCenter)
        self.sample.setMinimumSize(240, 160)
        live = QHBoxLayout()
        live.addWidget(self.plot, 1)
        live.addWidget(self.sample, 1)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(live, 1)
        self._set_state("idle")

    def spec(self) -> Any:
        name = self.plugin_picker.currentData()
        return self.registry.translator(name) if name else None

    def _plugin_changed(self) -> None:
        spec = self.spec()
        while self.folders_form.rowCount():
            self.folders_form.removeRow(0)
        self._folder_edits.clear()
        self.base_picker.clear()
        if spec is None:
            self.status.setText("No installed plugin can be trained.")
            self.start_button.setEnabled(False)
            return
        for dest, label in monitor.data_options(spec):
            edit = QLineEdit()
            browse = QPushButton("Browse...")
            browse.clicked.connect(lambda _c=False, e=edit, t=label: self._browse(e, t))
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(browse)
            self.folders_form.addRow(label, row)
            self._folder_edits[dest] = edit
        default = self.store.default(spec.name)
        if default is not None and default.bundled:  # fine-tuning it is translator-train's default
            self.base_picker.addItem(f"Bundled model ({default.name})", "bundled")
        self.base_picker.addItem("Scratch (new networks)", "scratch")
        for entry in self.store.list(spec.name):
            if not entry.bundled:
                self.base_picker.addItem(f"Model {entry.name}", entry.name)
        self.size.setValue(spec.training.size)
        self.steps.setValue(spec.training.steps)
        self._estimate()

    def _browse(self, edit: QLineEdit, title: str) -> None:
        folder = QFileDialog.getExistingDirectory(self, title, edit.text())
        if folder:
            edit.setText(folder)

    # ---- the request and its estimate ------------------------------------------------------

    def request(self) -> monitor.TrainRequest:
        """The run the inputs describe (the name filled in when left empty)."""
        spec = self.spec()
        name = self.name_edit.text().strip() or f"{spec.name}-{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
        return monitor.TrainRequest(
            plugin=spec.name, folders={k: e.text().strip() for k, e in self._folder_edits.items() if e.text().strip()},
            init=self.base_picker.currentData() or "scratch", steps=self.steps.value(),
            minutes=self.minutes.value() or None, name=name, size=self.size.value(),
            device=self.device_picker.currentText(), out=self.out, extra=shlex.split(self.extra_edit.text()))

    def _estimate(self) -> None:
        """Time from the speed measured by Measure speed (`measure`), else the speed an earlier run
        of this translator on this device reached (see `monitor.measured_rate`), scaled to the
        crop size by pixel count; without either, the time left is shown once the run has started."""
        spec = self.spec()
        if spec is None:
            return
        from translator.training.loop import runs_dir

        device = self.device_picker.currentText()
        key = (spec.name, device)
        if key not in self._rates:
            self._rates[key] = monitor.measured_rate(runs_dir(self.out), spec.name, 256, device)
        found = self._rates[key]
        if found is None:
            self.estimate.setText(f"No earlier run of {spec.title or spec.name} on {device} to estimate "
                                  "from; the time left is shown once the first steps are done.")
            return
        rate_256, note = found
        rate = rate_256 * (256 / self.size.value()) ** 2
        seconds = monitor.estimate_seconds(self.steps.value(), spec.training.batch_size, rate,
                                           self.minutes.value() or None)
        self.estimate.setText(f"About {monitor.format_duration(seconds)} on {device} "
                              f"({rate:.1f} images/s, {note}).")

    def measure(self) -> bool:
        """Start a throw-away probe run with the inputs as they are (in a temporary runs folder,
        killed after `PROBE_STEPS` steps, never exported); its speed feeds the estimate."""
        if self.probe is not None or self._checking or self.state in ("running", "stopping"):
            return False
        request = self.request()
        request.name, request.out, request.minutes = "probe", str(self._work / "probe-runs"), None
        request.steps, request.sample_every = 10**6, 0  # never reaches its end, so never exports
        request.extra = [*request.extra, "--save-every", "0"]
        self._check(request, self._start_probe, self.estimate)
        return True

    def _start_probe(self, request: monitor.TrainRequest) -> None:
        spec = self.spec()
        shutil.rmtree(self._work / "probe-runs", ignore_errors=True)
        progress = self._work / "probe.jsonl"
        progress.unlink(missing_ok=True)
        self._probe_reader, self._probe_events = monitor.ProgressReader(progress), []
        self._probe_key = (spec.name, request.device, request.size or spec.training.size)
        command = monitor.monitored_command(request.arguments(), progress, self._work / "probe-stop")
        self.probe = QProcess(self)
        self.probe.setProgram(command[0])
        self.probe.setArguments(command[1:])
        self.probe.finished.connect(self._probe_finished)
        self.probe.start()
        self._timer.start()
        self.measure_button.setEnabled(False)
        self.start_button.setEnabled(False)
        self.estimate.setText(f"Measuring the speed of {spec.title or spec.name} on {request.device}...")

    def _poll_probe(self) -> None:
        if self.probe is None or self._probe_reader is None:
            return
        self._probe_events += self._probe_reader.poll()
        if sum(e["event"] == "step" for e in self._probe_events) >= PROBE_STEPS:
            self.probe.kill()  # enough: `_probe_finished` records the speed

    def _probe_finished(self, _code: int, _status: QProcess.ExitStatus) -> None:
        assert self.probe is not None
        if self._probe_reader is not None:
            self._probe_events += self._probe_reader.poll()
        stderr = bytes(self.probe.readAllStandardError()).decode("utf-8", "replace")
        self.probe.deleteLater()
        self.probe = None
        shutil.rmtree(self._work / "probe-runs", ignore_errors=True)
        if self.state not in ("running", "stopping"):
            self._timer.stop()
        self._update_buttons()
        plugin, device, size = self._probe_key
        rate = monitor.probe_rate(self._probe_events, PROBE_WARMUP)
        if rate is None:
            errors = [line for line in stderr.splitlines() if "error" in line.lower()]
            self.estimate.setText(f"<span style='color:#c00'>Could not measure: "
                                  f"{errors[-1] if errors else 'the probe run ended early'}</span>")
            return
        timed = sum(e["event"] == "step" for e in self._probe_events) - PROBE_WARMUP
        self._rates[(plugin, device)] = (rate * (size / 256) ** 2, f"measured over {timed} steps at {size} px")
        self._estimate()

    # ---- the run ------------------------------------------------------------------------------

    def start(self) -> bool:
        """Check the inputs with translator-train's own checks (in a thread: a folder scan may be
        slow), then start a new run, or show the message; False when a run or check is going."""
        if self._checking or self.state in ("running", "stopping"):
            return False
        self._check(self.request(), self._start_run, self.status)
        return True

    def _check(self, request: monitor.TrainRequest, then: Callable[[monitor.TrainRequest], None],
               message: QLabel) -> None:
        """Run `monitor.check_request` in a thread; then call `then(request)` or show its error
        in `message`."""
        spec = self.spec()
        self._checking = True
        self._update_buttons()
        message.setText("Checking the folders...")

        def work() -> None:
            try:
                error = monitor.check_request(spec, request)
            except Exception as exc:  # noqa: BLE001 - shown, never raised into Qt
                error = f"could not check the inputs: {exc}"
            if error is None:
                self._checked.emit(lambda: then(request))
            else:
                self._checked.emit(lambda: message.setText(f"<span style='color:#c00'>{error}</span>"))

        threading.Thread(target=work, name="train-check", daemon=True).start()

    def _on_checked(self, continuation: Callable[[], None]) -> None:
        self._checking = False
        self._update_buttons()
        continuation()

    def _start_run(self, request: monitor.TrainRequest) -> None:
        self.run_name = request.name
        self.plot.clear()
        self.sample.setText("The latest sample grid appears here")
        self._progress_file = self._work / f"{request.name}.jsonl"
        self._reader = monitor.ProgressReader(self._progress_file)
        self._launch(request.arguments())

    def resume(self) -> None:
        """Continue the paused run (`--resume RUN`) with the steps and budget now asked for."""
        if self.state != "paused" or not self.run_name:
            return
        args = ["--resume", self.run_name, "--steps", str(self.steps.value())]
        if self.minutes.value():
            args += ["--time-limit", f"{self.minutes.value():g}"]
        if self.out:
            args += ["--out", self.out]
        self._launch(args)

    def _launch(self, arguments: list[str]) -> None:
        stop_file = self._work / "stop"
        stop_file.unlink(missing_ok=True)
        command = monitor.monitored_command(arguments, self._progress_file, stop_file)
        if self.process is not None:
            self.process.deleteLater()
        self.process = QProcess(self)
        self.process.setProgram(command[0])
        self.process.setArguments(command[1:])
        self.process.finished.connect(self._finished)
        self.process.errorOccurred.connect(self._process_error)
        self._cancelled = False
        self._session_start = None
        self._end = {}
        self.process.start()
        self._timer.start()
        self._set_state("running")
        self.status.setText(f"Starting {self.run_name}...")

    def pause(self) -> None:
        """Ask the run to save a checkpoint and stop after its current step."""
        if self.state == "running":
            (self._work / "stop").touch()
            self._set_state("stopping")
            self.status.setText("Saving a checkpoint and stopping...")

    def cancel(self) -> None:
        """Kill the run at once and delete its folder (checkpoints and samples)."""
        if self.state in ("running", "stopping") and self.process is not None:
            self._cancelled = True
            self.process.kill()
        elif self.state == "paused":
            self._discard()
            self._set_state("cancelled")

    def _discard(self) -> None:
        from translator.training.loop import runs_dir

        folder = runs_dir(self.out) / self.run_name
        if self.run_name and (folder / "options.json").is_file():
            shutil.rmtree(folder, ignore_errors=True)
        self.status.setText(f"Cancelled; run {self.run_name} was deleted.")

    def poll(self) -> None:
        """Read what the run (and a speed probe) appended to its progress file and show it."""
        self._poll_probe()
        if self._reader is None:
            return
        for event in self._reader.poll():
            kind = event["event"]
            if kind == "start":
                self._session_start = None
                self.progress.setMaximum(max(1, int(event.get("total", 1))))
            elif kind == "step":
                self._show_step(event)
            elif kind == "sample":
                pixmap = QPixmap(str(event.get("path", "")))
                if not pixmap.isNull():
                    self.sample.setPixmap(pixmap.scaled(self.sample.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                        Qt.TransformationMode.SmoothTransformation))
                    self.sample.setToolTip(f"step {event.get('step')}: {event.get('path')}")
            elif kind == "end":
                self._end = event

    def _show_step(self, event: dict[str, Any]) -> None:
        step, total, time_s = int(event["step"]), int(event.get("total") or 0), float(event.get("time_s", 0.0))
        if self._session_start is None:
            self._session_start = (step - 1, time_s)
        self._last_step = event
        self.plot.add(step, event.get("losses", {}))
        self.progress.setMaximum(max(1, total))
        self.progress.setValue(step)
        left = monitor.remaining_seconds(step, total, time_s, *self._session_start,
                                         limit_s=self.minutes.value() * 60 or None)
        losses = "  ".join(f"{k} {v:.3g}" for k, v in event.get("losses", {}).items())
        text = f"{self.run_name}: step {step} of {total}, {monitor.format_duration(time_s)} so far"
        if left is not None:
            text += f", about {monitor.format_duration(left)} left"
        self.status.setText(f"{text}. {losses}")

    def _process_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._timer.stop()
            self._set_state("failed")
            self.status.setText(f"Could not start translator-train: {self.process.errorString()}")

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._timer.stop()
        self.poll()
        assert self.process is not None
        stderr = bytes(self.process.readAllStandardError()).decode("utf-8", "replace")
        if self._cancelled:
            self._discard()
            self._set_state("cancelled")
        elif code == 0 and status == QProcess.ExitStatus.NormalExit and self._end.get("model"):
            entry = self.store.get(self._end["model"], self._end.get("translator"))
            self.status.setText(f"Done: {self._end['step']} steps; model {entry.name} is selected.")
            self._set_state("done")
            self.model_ready.emit(entry)
        elif code == 130 and status == QProcess.ExitStatus.NormalExit:
            self._set_state("paused")
            self.status.setText(f"Paused at step {self._end.get('step', '?')} with a checkpoint; Resume "
                                f"continues run {self.run_name}.")
        else:
            errors = [line for line in stderr.splitlines() if "error" in line.lower()]
            reason = errors[-1] if errors else (stderr.strip().splitlines() or ["it crashed"])[-1]
            self._set_state("failed")
            self.status.setText(f"<span style='color:#c00'>Training stopped: {reason}</span>")

    def _set_state(self, state: str) -> None:
        self.state = state
        self._update_buttons()
        self.state_changed.emit(state)

    def _update_buttons(self) -> None:
        state = self.state
        running = state in ("running", "stopping")
        idle = not running and self.probe is None and not self._checking
        self.start_button.setEnabled(idle and self.plugin_picker.count() > 0)
        self.measure_button.setEnabled(idle)
        self.pause_button.setEnabled(state == "running")
        self.resume_button.setEnabled(state == "paused")
        self.cancel_button.setEnabled(running or state == "paused")
        self.plugin_picker.setEnabled(not running)

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Ask a run to save and stop, and wait for it; end a speed probe (the app is quitting)."""
        if self.probe is not None:
            self.probe.kill()
            self.probe.waitForFinished(2000)
        if self.process is not None and self.state in ("running", "stopping"):
            (self._work / "stop").touch()
            if not self.process.waitForFinished(timeout_ms):
                self.process.kill()
                self.process.waitForFinished(2000)
        shutil.rmtree(self._work, ignore_errors=True)
