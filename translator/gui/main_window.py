"""The main window: a Qt view over a `translator.session.Session`.

The session (no Qt) owns what is open, what is chosen and what has run, and does the work on a
`TaskRunner`; this window lays out the widgets (`ImagesPanel`, `Canvas`, `SidePanel`, the menus
of `translator.gui.menus`, the sketch and hint tools of `CanvasTools`), forwards the user's
choices to the session and redraws on its events.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QMimeData, QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from translator.batch import BatchItem, BatchReport
from translator.errors import Cancelled, ParameterError, TranslatorError
from translator.gui import choosers, resources
from translator.gui.canvas import Canvas
from translator.gui.canvas_tools import CanvasTools
from translator.gui.convert import thumbnail, to_qimage
from translator.gui.images_panel import THUMB_PX, ImagesPanel
from translator.gui.menus import build_actions, fill_samples_menu
from translator.gui.messages import MessageBar
from translator.gui.mime import may_hold_images, read_mime
from translator.gui.pixmaps import PixmapCache
from translator.gui.reports import show_batch_report
from translator.gui.side_panel import SidePanel
from translator.gui.sketch import SketchBar
from translator.gui.workers import Task, TaskRunner
from translator.samples import Sample, made_image
from translator.session import OpenImage, RunRecord, Session
from translator.session.model import RESTORED
from translator.spec import TranslatorSpec

log = logging.getLogger(__name__)

GENERATE_TEXT = "Press Run (Ctrl+Return) to generate an image"


def _image_views(image: Any) -> tuple[QImage, QImage]:
    """The display form and thumbnail of an opened image (made in the worker)."""
    qimage = to_qimage(image)
    return qimage, thumbnail(qimage, THUMB_PX)


class MainWindow(QMainWindow):
    """The app's window over `self.session`.

    registry, store, engine: injected core objects (tests); when None the session loads them in
    the background on `start()`, after the window is visible.
    settings: where preferences persist (default: the app's QSettings).

    Signals for tests and scripts: `ready()` once plugins are loaded; `images_opened(list)` with
    the new `OpenImage`s after each open; `run_finished(object)` with a `RunRecord` or the
    exception of a failed run; `batch_finished(object)` with the `BatchReport`;
    `models_changed()` when the store's models changed.
    """

    ready = Signal()
    images_opened = Signal(list)
    run_finished = Signal(object)
    batch_finished = Signal(object)
    models_changed = Signal()
    preview_ready = Signal(object, object)

    def __init__(self, *, registry: Any = None, store: Any = None, engine: Any = None,
                 settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Translator")
        self.setWindowIcon(resources.icon("app"))
        self.setAcceptDrops(True)
        self.settings = settings if settings is not None else QSettings()
        self.runner = TaskRunner(max_threads=2, parent=self)
        self.session = Session(registry=registry, store=store, engine=engine, settings=self.settings,
                               runner=self.runner, image_view=_image_views, result_view=to_qimage)
        self._pixmaps = PixmapCache()
        self.batch_report_box: QMessageBox | None = None
        self._build_widgets()
        build_actions(self)
        self._restore_geometry()
        self._restored: tuple[str, Any] = ("", None)  # the "restored from last session" message shown
        self._connect_session()
        self._update_actions()
        if registry is not None:
            self.session.start()

    # ==== the session's state, for scripts and tests =============================================

    @property
    def registry(self) -> Any:
        return self.session.registry

    @property
    def store(self) -> Any:
        return self.session.store

    @property
    def images(self) -> Any:
        return self.session.images

    @property
    def spec(self) -> TranslatorSpec | None:
        return self.session.spec

    @property
    def shown_record(self) -> RunRecord | None:
        return self.session.shown

    @property
    def busy(self) -> bool:
        return self.session.busy

    @property
    def is_ready(self) -> bool:
        return self.session.is_ready

    # ==== construction ===========================================================================

    def _build_widgets(self) -> None:
        self.messages = MessageBar()
        self.canvas = Canvas()
        self._drop_text = self.canvas.placeholder.text()
        self.sketch_bar = SketchBar()
        self.sketch_bar.hide()
        centre = QWidget()
        column = QVBoxLayout(centre)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.messages)
        column.addWidget(self.sketch_bar)
        column.addWidget(self.canvas, 1)
        self.setCentralWidget(centre)

        self.images_panel = ImagesPanel()
        self.image_list, self.history_list = self.images_panel.image_list, self.images_panel.history_list
        self.image_list.currentRowChanged.connect(self.session.select_image)
        self.history_list.itemClicked.connect(self._history_clicked)
        self._dock("Images", "imagesDock", self.images_panel, Qt.DockWidgetArea.LeftDockWidgetArea, 150)

        side = self.side_panel = SidePanel()
        self.translator_picker, self.model_picker = side.translator_picker, side.model_picker
        self.param_form, self.progress = side.param_form, side.progress
        self.device_picker, self.precision_picker = side.device_picker, side.precision_picker
        self.run_button, self.cancel_button = side.run_button, side.cancel_button
        side.translator_picker.translator_changed.connect(self.session.select_translator)
        side.model_picker.currentIndexChanged.connect(
            lambda _i: self.session.select_model(self.model_picker.current_model()))
        side.device_picker.currentIndexChanged.connect(self._device_changed)
        side.precision_picker.currentIndexChanged.connect(self._device_changed)
        side.param_form.changed.connect(self._params_changed)
        side.param_form.run_requested.connect(self.run_current)
        side.import_button.clicked.connect(lambda: choosers.choose_model_import(self))
        side.catalog_hint.linkActivated.connect(lambda _link: self.show_catalog_dialog())
        side.run_button.clicked.connect(self.run_current)
        side.cancel_button.clicked.connect(self.cancel)
        self._dock("Translator", "translatorDock", side, Qt.DockWidgetArea.RightDockWidgetArea, 0)
        self.tools = CanvasTools(self.session, self.canvas, self.sketch_bar, self.param_form,
                                 self._take_params, self.settings, self)
        self.hint_tool = self.tools.hint_tool

        self.zoom_label = QLabel()
        self.zoom_label.setObjectName("zoomLabel")
        self.statusBar().addPermanentWidget(self.zoom_label)
        for view in (self.canvas.before, self.canvas.after):
            view.view_changed.connect(lambda v=view: self._show_zoom(v.zoom))
        self.statusBar().showMessage("Loading plugins...")

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea, min_width: int) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setTitleBarWidget(QWidget())
        if min_width:
            dock.setMinimumWidth(min_width)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(area, dock)

    def _connect_session(self) -> None:
        events = self.session.events
        events.ready.connect(self._on_ready)
        events.error.connect(self.show_error)
        events.info.connect(self.show_info)
        events.status.connect(lambda text, msec: self.statusBar().showMessage(text, msec))
        events.progress.connect(self._on_progress)
        events.busy_changed.connect(lambda _busy: self._update_actions())
        events.image_added.connect(self.images_panel.add_image)
        events.image_removed.connect(lambda row, _item: self.images_panel.remove_image(row))
        events.image_changed.connect(self._on_image_changed)
        events.current_changed.connect(self._on_current_changed)
        events.opened.connect(lambda added: (self._update_actions(), self.images_opened.emit(added)))
        events.plugins_changed.connect(self._on_plugins_changed)
        events.translator_changed.connect(self._on_translator_changed)
        events.params_changed.connect(self._on_params_changed)
        events.models_changed.connect(lambda: (self._show_models(), self.models_changed.emit()))
        events.shown_changed.connect(self._on_shown)
        events.history_changed.connect(lambda: self.images_panel.set_history(self.session.history()))
        events.run_finished.connect(self._on_run_finished)
        events.preview.connect(self.preview_ready.emit)  # from the worker: queued to this thread
        self.preview_ready.connect(self._show_preview)
        events.batch_finished.connect(self._on_batch_finished)

    # ==== start-up and messages ==================================================================

    def start(self) -> None:
        """Load plugins, the model store and the device list in the background (the window is
        already visible); emits `ready` when done. A no-op when they were injected."""
        self.session.start()

    def _on_ready(self) -> None:
        session = self.session
        self.device_picker.set_devices(session.devices, session.device)
        self.precision_picker.blockSignals(True)
        self.precision_picker.setCurrentText(session.precision)
        self.precision_picker.blockSignals(False)
        fixed = session.injected_engine is not None
        self.device_picker.setEnabled(not fixed)
        self.precision_picker.setEnabled(not fixed)
        fill_samples_menu(self)
        self._update_actions()
        self.ready.emit()

    def show_error(self, what: str, exc: BaseException | str, details: str = "") -> None:
        """A non-modal error message; the app keeps running."""
        text = str(exc) if isinstance(exc, (str, TranslatorError)) else f"{type(exc).__name__}: {exc}"
        self.messages.show_message(f"{what}: {text}", "error", details)
        self.statusBar().showMessage(what, 5000)
        log.warning("%s: %s", what, text)

    def show_info(self, text: str) -> None:
        message = self.messages.show_message(text, "info")
        if text.startswith(RESTORED):  # about one translator: gone when another is chosen
            self._restored = (text, message)

    def _show_zoom(self, zoom: float) -> None:
        shown = self.canvas.before_pixmap is not None or self.canvas.after_pixmap is not None
        self.zoom_label.setText(f"{zoom * 100:.0f}%" if shown else "")

    # ==== opening images =========================================================================

    def open_paths(self, paths: Iterable[Path | str]) -> Task | None:
        """Open image files and folders in the background (weight files are imported as models);
        `images_opened` follows. Returns the reading task (None when there were no images)."""
        return self.session.open_paths(paths)

    def add_image(self, image: Any, name: str, path: Path | None = None) -> OpenImage:
        """Add an in-memory `Image` (pasted, dropped data) and select it."""
        qimage = to_qimage(image)
        return self.session.add_image(OpenImage(name=name, image=image, path=path, view=qimage,
                                                thumb=thumbnail(qimage, THUMB_PX)))

    def select_image(self, item: OpenImage) -> None:
        self.session.select_image(item)

    def close_current(self) -> None:
        """Ctrl+W: close the highlighted image (the generated one, when it is shown)."""
        row = self.image_list.currentRow()
        self.session.close_image(row if row >= 0 else None)

    def paste(self) -> None:
        """Ctrl+V: image files (URLs) or image data from the clipboard."""
        self._open_mime(QGuiApplication.clipboard().mimeData(), "Pasted")

    def _open_mime(self, mime: QMimeData | None, label: str) -> bool:
        if mime is None:
            return False
        try:
            found = read_mime(mime, label.lower())
        except TranslatorError as exc:
            self.show_error(f"Could not open the {label.lower()} data", exc)
            return False
        if isinstance(found, list):
            self.open_paths(found)
        else:
            self.add_image(found, self.session.next_name(label))
        return True

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if may_hold_images(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        if self._open_mime(event.mimeData(), "Dropped"):
            event.acceptProposedAction()

    def open_sample(self, sample: Sample, plugin: str | None = None) -> None:
        """Pick the translator a sample was made for, with its parameters, open its image (a
        file, the image its factory makes, or none for a generator) and run it. A failing
        factory marks its `plugin` broken."""
        known = self.registry is not None and sample.translator in self.registry.translators
        if known:
            self.session.select_translator(sample.translator)
            self.param_form.set_values(dict(sample.params), strict=False)
            self._take_params()
        elif self.registry is not None:
            self.show_info(f"The {sample.translator} translator is not installed; the sample opens anyway")
        if sample.image is None:
            if known:
                self.run_current()
            return
        if callable(sample.image):
            try:
                image = made_image(sample)
            except Exception as exc:  # noqa: BLE001 - the plugin's factory, not ours
                if plugin is not None and self.registry is not None:
                    self.registry.mark_broken(plugin, exc)
                    self.session.events.plugins_changed.emit()
                self.show_error(f"Could not make the sample {sample.title!r}", exc)
                return
            self.add_image(image, self.session.next_name(sample.title))
            if known:
                self.run_current()
            return
        path = Path(sample.image)

        def opened(_added: Any) -> None:
            self.images_opened.disconnect(opened)
            item = next((i for i in self.images if i.path == path), None)
            if item is not None and known:
                self.select_image(item)
                self.run_current()

        self.images_opened.connect(opened)
        self.open_paths([path])

    # ==== sketches (see `CanvasTools`) ==========================================================

    def new_sketch(self, background: QImage | None = None, name: str | None = None) -> OpenImage:
        return self.tools.new_sketch(background, name)

    def draw_over_current(self) -> OpenImage | None:
        return self.tools.draw_over_current()

    def sketch_do(self, what: str) -> None:
        self.tools.sketch_do(what)

    # ==== display ================================================================================

    def _on_current_changed(self, item: OpenImage | None) -> None:
        self.images_panel.highlight(self.images.current_index)
        self.tools.install()
        self._refresh_canvas(new_image=True)

    def _on_params_changed(self, params: dict[str, Any]) -> None:
        """Values changed by the session (an image's own hints): shown without re-running."""
        hints = self.param_form.color_points_control()
        blocked = [w for w in (self.param_form, hints) if w is not None]
        for widget in blocked:
            widget.blockSignals(True)
        self.param_form.set_values(params, strict=False)
        for widget in blocked:
            widget.blockSignals(False)
        self.tools.show_hints()

    def _on_image_changed(self, item: OpenImage) -> None:
        self.images_panel.set_thumbnail(self.images.index_of(item), item.thumb if item.thumb is not None else (
            thumbnail(item.view, THUMB_PX) if isinstance(item.view, QImage) else None))
        if item is self.session.generated:
            self._highlight_target()
        elif item is self.images.current:
            self._refresh_canvas()  # new pixels in the before pane (a sketch stroke)

    def _highlight_target(self) -> None:
        """Highlight the image the canvas shows: the generated slot for a generator."""
        target = self.session.target() if self.session.generates else self.images.current
        self.images_panel.highlight(self.images.index_of(target) if target is not None else -1)

    def _refresh_canvas(self, new_image: bool = False) -> None:
        item = self.images.current
        generates = self.session.generates
        before = self._pixmaps.get(item) if not generates and item is not None and item.image is not None else None
        record = self.shown_record
        self.canvas.placeholder.setText(GENERATE_TEXT if generates else self._drop_text)
        self.canvas.set_images(before, self._pixmaps.get(record) if record is not None else None)
        self._label_after()
        if new_image:
            self.canvas.fit()
        self._show_zoom(self.canvas.before.zoom)
        self.tools.show_hints()
        self._update_actions()

    def _label_after(self) -> None:
        record = self.shown_record
        if record is not None:
            stale = "  (out of date: Ctrl+Return to run)" if self.session.is_stale(record) else ""
            self.canvas.after_label.setText(f"After: {record.label()}{stale}")

    def _on_shown(self, record: RunRecord | None) -> None:
        if record is not None and self._pixmaps.get(record) is self.canvas.after_pixmap:
            self._label_after()  # the same result (a parameter changed): no redraw of big pixmaps
            self._update_actions()
        else:
            self._refresh_canvas()

    def _history_clicked(self, entry: QListWidgetItem) -> None:
        record = entry.data(Qt.ItemDataRole.UserRole)
        if record is not None:
            self.session.show(record)

    def show_record(self, record: RunRecord) -> None:
        """Show a past result in the after pane."""
        self.session.show(record)

    # ==== translator, model, device, parameters ==================================================

    def _on_plugins_changed(self) -> None:
        self.translator_picker.blockSignals(True)
        self.translator_picker.set_registry(self.registry)
        self.translator_picker.blockSignals(False)
        fill_samples_menu(self)

    def _on_translator_changed(self, spec: TranslatorSpec | None) -> None:
        text, message = self._restored
        if message is not None and (spec is None or not text.startswith(f"{RESTORED} {spec.title or spec.name}:")):
            message.close_message()
            self._restored = ("", None)
        self.side_panel.show_translator(spec, self.session.params)
        self._show_models()
        self.tools.translator_changed()
        self._highlight_target()

    def _show_models(self) -> None:
        entries, default = self.session.model_entries()
        demo_only = bool(entries) and all(e.bundled for e in entries)
        spec = self.spec
        self.side_panel.show_models(entries, default, self.session.model,
                                    self.session.published_models() if demo_only else 0,
                                    weights=spec is None or spec.weights)

    def _device_changed(self, _index: int) -> None:
        if self.device_picker.currentData() is not None:
            self.session.set_device(self.device_picker.current_device(), self.precision_picker.current_precision())

    def _params_changed(self) -> None:
        try:
            self.session.set_params(self.param_form.values())
        except ParameterError as exc:
            self.statusBar().showMessage(str(exc), 5000)

    def _take_params(self) -> bool:
        """Hand the form's values to the session before a job (a text field being edited has
        not said `changed` yet); False, with a message, when one is invalid."""
        if self.spec is None:
            return True
        try:
            values = self.param_form.values()
        except ParameterError as exc:
            self.show_error("Bad parameter", exc)
            return False
        if values != self.session.params:
            self.session.set_params(values)
        return True

    # ==== running ================================================================================

    def run_current(self) -> Any:
        """Ctrl+Return: run the current translator in the background (a cached result is shown
        at once instead). Returns the task (None when nothing started)."""
        return self.session.run() if self._take_params() else None

    def cancel(self) -> None:
        """Esc: stop the running translator or batch (it stops at its next check)."""
        self.session.cancel()

    def _show_preview(self, item: OpenImage, view: QImage) -> None:
        """A quick preview of a big run's result, until the full size arrives."""
        if item is self.session.target() and self.session.run_task is not None:
            self.canvas.set_after(QPixmap.fromImage(view))
            self.canvas.after_label.setText("After: a quick preview, the full size follows")

    def _on_run_finished(self, outcome: RunRecord | BaseException) -> None:
        if isinstance(outcome, Cancelled):
            self._refresh_canvas()  # no preview of the cancelled run stays
        self.run_finished.emit(outcome)

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        if message:
            self.statusBar().showMessage(message)

    # ==== output =================================================================================

    def save_result(self, path: Path, *, overwrite: bool = False) -> Path | None:
        """Write the result shown to `path`; never replaces an open input. None on error."""
        return self.session.save_result(path, overwrite=overwrite)

    def save_all(self, folder: Path, fmt: str = "png") -> list[Path]:
        """Save the latest result of every open image into `folder`."""
        return self.session.save_all(folder, fmt)

    def copy_result(self) -> None:
        record = self.shown_record
        if record is None:
            self.show_error("Nothing to copy", "run a translator first")
            return
        QGuiApplication.clipboard().setImage(record.view if isinstance(record.view, QImage)
                                             else to_qimage(record.result))
        self.statusBar().showMessage("Result copied", 3000)

    # ==== batch ==================================================================================

    def open_batch_items(self) -> list[BatchItem]:
        return self.session.open_batch_items()

    def start_batch(self, items: Sequence[BatchItem], out_dir: Path, fmt: str = "png") -> Any:
        """Run the current translator over `items` into `out_dir` in the background; the report
        is shown at the end and sent by `batch_finished`."""
        return self.session.start_batch(items, out_dir, fmt) if self._take_params() else None

    def _on_batch_finished(self, report: BatchReport | BaseException) -> None:
        if isinstance(report, BatchReport):
            self.statusBar().showMessage(f"Batch: {report.summary()}", 8000)
            self.batch_report_box = show_batch_report(self, self.messages, report) or self.batch_report_box
        self.batch_finished.emit(report)

    # ==== models =================================================================================

    def import_model(self, path: Path, plugin: str | None = None) -> Any:
        """Import a weights file in the background; the new model is then selected."""
        return self.session.import_model(path, plugin)

    def show_train_dialog(self) -> Any:
        """Models > Train...: one dialog for the window's life (a run goes on while it is hidden);
        a finished run's model is selected at once."""
        from translator.gui.train_dialog import TrainDialog

        if self.store is None:
            self.show_error("Train", "plugins are still loading")
            return None
        if getattr(self, "train_dialog", None) is None:
            self.train_dialog = TrainDialog(self.registry, self.store, self.session.device, self)
            self.train_dialog.model_ready.connect(self.session.model_installed)
        self.train_dialog.show()
        self.train_dialog.raise_()
        return self.train_dialog

    def show_models_dialog(self) -> None:
        from translator.gui.dialogs import ModelsDialog

        if self.store is None:
            self.show_error("Models", "plugins are still loading")
            return
        dialog = ModelsDialog(self.store, self)
        dialog.import_requested.connect(lambda: choosers.choose_model_import(self))
        dialog.removed.connect(lambda _name: self.session.models_changed())
        self.models_changed.connect(dialog.refresh)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    def show_catalog_dialog(self) -> Any:
        """Models > Get models...: the catalog; a finished download is selected in the picker."""
        from translator.gui.catalog_dialog import CatalogDialog

        if self.store is None:
            self.show_error("Get models", "plugins are still loading")
            return None
        dialog = CatalogDialog(self.store, self)
        dialog.installed.connect(self.session.model_installed)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    # ==== state of actions, settings =============================================================

    def _update_actions(self) -> None:
        busy, can_run = self.busy, self.spec is not None
        has_result = self.shown_record is not None
        item = self.images.current
        self.side_panel.show_busy(busy, can_run)
        for action, enabled in ((self.run_action, can_run and not busy), (self.cancel_action, busy),
                                (self.save_action, has_result), (self.copy_action, has_result),
                                (self.save_all_action, any(i.history for i in self.images)),
                                (self.batch_action, can_run and not busy),
                                (self.draw_over_action, item is not None and item.image is not None),
                                (self.close_action, item is not None),
                                (self.undo_action, item is not None and item.sketch is not None),
                                (self.redo_action, item is not None and item.sketch is not None)):
            action.setEnabled(enabled)

    def _restore_geometry(self) -> None:
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        state = self.settings.value("window_state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        self.settings.sync()
        self.session.cancel_all()
        self.runner.cancel_all()
        self.runner.wait(5000)
        super().closeEvent(event)
