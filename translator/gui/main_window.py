"""The main window: open images, pick a translator, run it in the background, compare, save.

Thin over the core: the registry, the model store and the engine do the work; the Qt-free state
(`translator.gui.state`, `translator.batch`) holds what is open and what has run; this
module wires widgets to them. Every slow step (reading images, loading plugins and models,
running a translator, batches, imports) runs in a `TaskRunner` worker.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QMimeData, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QIcon,
    QImage,
    QKeySequence,
    QPixmap,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from translator.batch import BatchItem, BatchReport, ItemResult, items_from_paths, run_batch
from translator.errors import Cancelled, ImageError, ParameterError, PluginError, TranslatorError
from translator.gui import resources
from translator.gui.canvas import Canvas
from translator.gui.convert import from_qimage, thumbnail, to_qimage
from translator.gui.hints import HintTool, hint_color
from translator.gui.messages import MessageBar
from translator.gui.panels import DevicePicker, ModelPicker, PrecisionPicker, TranslatorPicker
from translator.gui.params_form import ParamForm
from translator.gui.sketch import SketchBar, SketchDocument, SketchTool
from translator.gui.state import ImageList, ModelCache, OpenImage, ResultCache, RunRecord
from translator.gui.workers import Task, TaskRunner
from translator.params import ColorPoint
from translator.samples import Sample, made_image
from translator.spec import TranslatorSpec

log = logging.getLogger(__name__)

WEIGHT_SUFFIXES = frozenset({".pth", ".pt", ".safetensors", ".ckpt"})
SAVE_FILTER = "PNG (*.png);;JPEG (*.jpg *.jpeg);;WebP (*.webp);;TIFF (*.tif *.tiff)"
OPEN_FILTER = ("Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.jp2 *.pbm *.pgm *.ppm);;"
               "All files (*)")
THUMB_PX = 72
LIVE_DELAY_MS = 700


class MainWindow(QMainWindow):
    """The app's window.

    registry, store, engine: injected core objects (tests); when None they are created in the
    background by `start()` after the window is visible (the registry with `load_registry()`,
    the store over it, and one engine per device/precision choice).
    settings: where preferences persist (default: the app's QSettings).

    Signals for tests and scripts: `ready()` once plugins are loaded; `images_opened(list)` with
    the new `OpenImage`s after each open; `run_finished(object)` with a `RunRecord` or the
    exception of a failed run; `batch_finished(object)` with the `BatchReport`.
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
        self.registry = registry
        self.store = store
        self._injected_engine = engine
        self._engines: dict[tuple[str, str], Any] = {}
        self._engine_lock = threading.Lock()
        self.images = ImageList()
        self.cache = ResultCache()
        self.models = ModelCache()
        self.runner = TaskRunner(max_threads=2, parent=self)
        self.spec: TranslatorSpec | None = None
        self.shown_record: RunRecord | None = None
        self._generated: OpenImage | None = None
        self._run_task: Task | None = None
        self._batch_task: Task | None = None
        self._rerun_pending = False
        self._pixmaps: OrderedDict[int, tuple[object, QPixmap, int]] = OrderedDict()
        self._sketch_tool: SketchTool | None = None
        self.is_ready = False

        self._build_widgets()
        self._build_actions()
        self._restore_geometry()
        self._live_timer = QTimer(self)
        self._live_timer.setSingleShot(True)
        self._live_timer.setInterval(LIVE_DELAY_MS)
        self._live_timer.timeout.connect(self._live_run)
        self.preview_ready.connect(self._show_preview)
        self._update_actions()
        if self.registry is not None:
            self._on_loaded((self.registry, None))

    # ==== construction ===========================================================================

    def _build_widgets(self) -> None:
        self.messages = MessageBar()
        self.canvas = Canvas()
        self.sketch_bar = SketchBar()
        self.sketch_bar.hide()
        self.hint_tool = HintTool(self.canvas.before, self._hint_color_at, self)
        self.hint_tool.changed.connect(self._hints_edited)

        centre = QWidget()
        column = QVBoxLayout(centre)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.messages)
        column.addWidget(self.sketch_bar)
        column.addWidget(self.canvas, 1)
        self.setCentralWidget(centre)

        # left: open images and the current image's history
        self.image_list = QListWidget()
        self.image_list.setIconSize(QPixmap(THUMB_PX, THUMB_PX).size())
        self.image_list.setObjectName("imageList")
        self.image_list.currentRowChanged.connect(self._select_row)
        self.history_list = QListWidget()
        self.history_list.setObjectName("historyList")
        self.history_list.setWordWrap(True)
        self.history_list.itemClicked.connect(self._history_clicked)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self._titled("Images", self.image_list))
        left.addWidget(self._titled("History", self.history_list))
        left.setSizes([400, 200])
        dock = QDockWidget("Images", self)
        dock.setObjectName("imagesDock")
        dock.setTitleBarWidget(QWidget())
        dock.setMinimumWidth(150)
        dock.setWidget(left)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)

        # right: translator, model, device, parameters, run
        self.translator_picker = TranslatorPicker()
        self.translator_picker.translator_changed.connect(self._translator_changed)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setObjectName("description")
        self.model_picker = ModelPicker()
        self.model_picker.currentIndexChanged.connect(self._model_changed)
        self.import_button = QPushButton("Import model...")
        self.import_button.clicked.connect(self.choose_model_import)
        self.device_picker = DevicePicker()
        self.device_picker.addItem("loading...", None)
        self.device_picker.currentIndexChanged.connect(self._device_changed)
        self.precision_picker = PrecisionPicker()
        self.precision_picker.currentIndexChanged.connect(self._device_changed)
        self.param_form = ParamForm()
        self.param_form.changed.connect(self._params_changed)
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Run the translator on the current image (Ctrl+Return)")
        self.run_button.clicked.connect(self.run_current)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running job (Esc)")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)

        panel = QWidget()
        form = QFormLayout(panel)
        form.addRow("Translator", self.translator_picker)
        form.addRow(self.description)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_picker, 1)
        model_row.addWidget(self.import_button)
        form.addRow("Model", model_row)
        self._model_row = (form, model_row)
        self.catalog_hint = QLabel()
        self.catalog_hint.setObjectName("catalogHint")
        self.catalog_hint.setWordWrap(True)
        self.catalog_hint.linkActivated.connect(lambda _link: self.show_catalog_dialog())
        self.catalog_hint.hide()
        form.addRow(self.catalog_hint)
        form.addRow("Device", self.device_picker)
        form.addRow("Precision", self.precision_picker)
        self.params_title = QLabel("<b>Parameters</b>")
        form.addRow(self.params_title)
        form.addRow(self.param_form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button, 1)
        buttons.addWidget(self.cancel_button)
        form.addRow(buttons)
        form.addRow(self.progress)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(panel)
        scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(300)
        dock = QDockWidget("Translator", self)
        dock.setObjectName("translatorDock")
        dock.setTitleBarWidget(QWidget())
        dock.setWidget(scroll)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.statusBar().showMessage("Loading plugins...")

    @staticmethod
    def _titled(title: str, widget: QWidget) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(2, 2, 2, 2)
        label = QLabel(f"<b>{title}</b>")
        layout.addWidget(label)
        layout.addWidget(widget, 1)
        return box

    def _action(self, text: str, slot: Any, shortcut: Any = None, icon: str | None = None,
                tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, (list, tuple)):
                action.setShortcuts([QKeySequence(s) for s in shortcut])
            else:
                action.setShortcut(QKeySequence(shortcut))
        if icon:
            action.setIcon(resources.icon(icon))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        key = QKeySequence.StandardKey
        self.open_action = self._action("&Open images...", self.choose_open, key.Open, "open",
                                        "Open image files (Ctrl+O)")
        self.open_folder_action = self._action("Open &folder...", self.choose_open_folder, None, "folder")
        self.paste_action = self._action("&Paste image", self.paste, key.Paste, "paste",
                                         "Paste an image or image files from the clipboard (Ctrl+V)")
        self.sketch_action = self._action("&New sketch", self.new_sketch, "Ctrl+N", "sketch",
                                          "A blank page to draw on (for sketch to photo)")
        self.draw_over_action = self._action("&Draw over this image", self.draw_over_current, None, "sketch")
        self.close_action = self._action("&Close image", self.close_current, "Ctrl+W")
        self.save_action = self._action("&Save result...", self.choose_save, key.Save, "save",
                                        "Save the result shown (Ctrl+S)")
        self.save_all_action = self._action("Save &all results...", self.choose_save_all, "Ctrl+Shift+S")
        self.copy_action = self._action("&Copy result", self.copy_result, "Ctrl+Shift+C", "copy")
        self.batch_action = self._action("&Batch...", self.choose_batch, "Ctrl+B", "batch",
                                         "Run the translator over all open images or a folder")
        self.quit_action = self._action("&Quit", self.close, key.Quit)
        self.run_action = self._action("&Run", self.run_current, ["Ctrl+Return", "Ctrl+Enter"], "run",
                                       "Run the translator (Ctrl+Return)")
        self.cancel_action = self._action("&Cancel", self.cancel, "Esc", "cancel", "Stop the running job (Esc)")
        self.fit_action = self._action("&Fit", self.canvas.fit, "Ctrl+0", "fit", "Fit the image (Ctrl+0)")
        self.actual_action = self._action("&100%", self.canvas.actual_size, "Ctrl+1", "actual",
                                          "Actual pixels (Ctrl+1)")
        self.compare_action = self._action("&Compare (split)", self.canvas.toggle_compare, "C", "compare",
                                           "One view with a draggable before/after split (C)")
        self.compare_action.setCheckable(True)
        self.canvas.compare_changed.connect(self.compare_action.setChecked)
        self.undo_action = self._action("&Undo stroke", lambda: self._sketch_do("undo"), key.Undo, "undo")
        self.redo_action = self._action("&Redo stroke", lambda: self._sketch_do("redo"),
                                        ["Ctrl+Shift+Z", "Ctrl+Y"], "redo")
        self.models_action = self._action("&Models...", self.show_models_dialog, None, "models")
        self.get_models_action = self._action("&Get models...", self.show_catalog_dialog,
                                              tip="Download the papers' published models")
        self.import_action = self._action("&Import model...", self.choose_model_import, None, "import")

        menus = self.menuBar()
        file_menu = menus.addMenu("&File")
        for action in (self.open_action, self.open_folder_action, self.paste_action, None,
                       self.sketch_action, self.draw_over_action, None, self.save_action,
                       self.save_all_action, self.copy_action, None, self.batch_action, None,
                       self.close_action, self.quit_action):
            file_menu.addSeparator() if action is None else file_menu.addAction(action)
        self.samples_menu = menus.addMenu("&Samples")
        self._fill_samples_menu()
        edit_menu = menus.addMenu("&Edit")
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        view_menu = menus.addMenu("&View")
        for action in (self.fit_action, self.actual_action, self.compare_action):
            view_menu.addAction(action)
        run_menu = menus.addMenu("&Run")
        run_menu.addAction(self.run_action)
        run_menu.addAction(self.cancel_action)
        run_menu.addAction(self.batch_action)
        models_menu = menus.addMenu("&Models")
        models_menu.addAction(self.models_action)
        models_menu.addAction(self.get_models_action)
        models_menu.addAction(self.import_action)

        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        for action in (self.open_action, self.paste_action, self.sketch_action, self.save_action, None,
                       self.run_action, self.cancel_action, None, self.fit_action, self.actual_action,
                       self.compare_action, None, self.batch_action, self.models_action):
            toolbar.addSeparator() if action is None else toolbar.addAction(action)

    def _fill_samples_menu(self) -> None:
        """The built-in samples, then (once plugins are loaded) each plugin's `translator_samples()`."""
        self.samples_menu.clear()
        samples: list[tuple[str | None, Sample]] = [(None, sample) for sample in resources.samples()]
        if self.registry is not None:
            plugin_samples = self.registry.samples()
            if plugin_samples and samples:
                samples.append((None, None))  # type: ignore[arg-type] - a separator
            samples.extend(plugin_samples)
        for plugin, sample in samples:
            if sample is None:
                self.samples_menu.addSeparator()
                continue
            action = QAction(f"{sample.title}  [{sample.translator}]", self)
            action.setToolTip(sample.description)
            action.triggered.connect(lambda _c=False, s=sample, p=plugin: self.open_sample(s, p))
            self.samples_menu.addAction(action)
        self.samples_menu.setEnabled(bool(samples))

    # ==== start-up ===============================================================================

    def start(self) -> None:
        """Load plugins, the model store and the device list in the background (the window is
        already visible); emits `ready` when done. A no-op when they were injected."""
        if self.is_ready:
            return
        self.statusBar().showMessage("Loading plugins and PyTorch...")

        def load(progress: Any, cancel: threading.Event) -> tuple[Any, Any]:
            from translator.plugins import load_registry

            registry = load_registry()
            devices = _list_devices()
            return registry, devices

        self.runner.start(load, name="load plugins", on_done=self._on_loaded,
                          on_failed=lambda exc: self.show_error("Could not load plugins", exc))

    def _on_loaded(self, loaded: tuple[Any, Any]) -> None:
        registry, devices = loaded
        self.registry = registry
        if self.store is None:
            from translator.store import ModelStore

            self.store = ModelStore(registry)
        if self._injected_engine is not None:
            engine = self._injected_engine
            self.device_picker.set_devices([_device_info(str(engine.device))])
            self.precision_picker.setCurrentText(engine.precision)
            self.device_picker.setEnabled(False)
            self.precision_picker.setEnabled(False)
        elif devices is not None:
            self.device_picker.set_devices(devices, self.settings.value("device", None))
            self.precision_picker.setCurrentText(str(self.settings.value("precision", "auto")))
        else:
            self._load_devices()
        self.translator_picker.set_registry(registry, self.settings.value("translator", None))
        self._fill_samples_menu()
        self.is_ready = True
        broken = [p.name for p in registry.plugins.values() if p.broken]
        status = f"{len(registry.translators)} translator(s) ready"
        if broken:
            status += f"; broken plugin(s): {', '.join(broken)} (hover them for the error)"
        self.statusBar().showMessage(status, 10000)
        self._update_actions()
        self.ready.emit()

    def _load_devices(self) -> None:
        def load(progress: Any, cancel: threading.Event) -> Any:
            return _list_devices()

        def loaded(devices: Any) -> None:
            self.device_picker.set_devices(devices, self.settings.value("device", None))
            self.precision_picker.setCurrentText(str(self.settings.value("precision", "auto")))

        self.runner.start(load, name="devices", on_done=loaded,
                          on_failed=lambda exc: self.show_error("Could not list devices", exc))

    # ==== messages ===============================================================================

    def show_error(self, what: str, exc: BaseException | str) -> None:
        """A non-modal error message; the app keeps running."""
        text = str(exc) if isinstance(exc, (str, TranslatorError)) else f"{type(exc).__name__}: {exc}"
        self.messages.show_message(f"{what}: {text}", "error")
        self.statusBar().showMessage(what, 5000)
        log.warning("%s: %s", what, text)

    def show_info(self, text: str) -> None:
        self.messages.show_message(text, "info")

    # ==== opening images =========================================================================

    def choose_open(self) -> None:
        folder = str(self.settings.value("last_open_dir", ""))
        paths, _ = QFileDialog.getOpenFileNames(self, "Open images", folder, OPEN_FILTER)
        if paths:
            self.settings.setValue("last_open_dir", str(Path(paths[0]).parent))
            self.open_paths([Path(p) for p in paths])

    def choose_open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of images",
                                                  str(self.settings.value("last_open_dir", "")))
        if folder:
            self.settings.setValue("last_open_dir", folder)
            self.open_paths([Path(folder)])

    def open_paths(self, paths: Iterable[Path | str]) -> Task | None:
        """Open image files and folders (recursively) in the background; weight files
        (.pth/.pt/.safetensors) are imported as models instead. Unreadable files are listed in
        one message. Returns the task reading the images (None when there were none)."""
        paths = [Path(p) for p in paths]
        weights = [p for p in paths if p.is_file() and p.suffix.lower() in WEIGHT_SUFFIXES]
        for path in weights:
            self.import_model(path)
        paths = [p for p in paths if p not in weights]
        if not paths:
            return None
        self.statusBar().showMessage(f"Opening {len(paths)} item(s)...")

        def read(progress: Any, cancel: threading.Event) -> tuple[list[Any], list[tuple[str, str]]]:
            from translator.imageio import find_images, read_image

            errors = [(str(p), "no such file or folder") for p in paths if not p.exists()]
            files = find_images(paths)
            if not files and not errors:
                errors.append((", ".join(str(p) for p in paths), "no images found"))
            loaded = []
            for index, path in enumerate(files):
                if cancel.is_set():
                    break
                progress(index / max(len(files), 1), path.name)
                try:
                    image = read_image(path)
                    qimage = to_qimage(image)
                    loaded.append((path, image, qimage, thumbnail(qimage, THUMB_PX)))
                except ImageError as exc:
                    errors.append((path.name, str(exc)))
                except Exception as exc:  # noqa: BLE001 - one bad file never stops the others
                    errors.append((path.name, f"{type(exc).__name__}: {exc}"))
            return loaded, errors

        return self.runner.start(read, name="open images", on_done=self._opened,
                                 on_failed=lambda exc: self.show_error("Could not open images", exc))

    def _opened(self, result: tuple[list[Any], list[tuple[str, str]]]) -> None:
        loaded, errors = result
        added = []
        for path, image, qimage, thumb in loaded:
            item, new = self.images.add(OpenImage(name=path.name, image=image, path=path, view=qimage))
            if new:
                self._add_list_item(item, thumb)
                added.append(item)
        if errors:
            lines = "\n".join(f"{name}: {why}" for name, why in errors)
            first = errors[0][1]
            more = f" (and {len(errors) - 1} more; hover for all)" if len(errors) > 1 else ""
            self.messages.show_message(f"Could not open {len(errors)} file(s): {first}{more}", "error", lines)
        if added:
            self.select_image(added[0])
        self.statusBar().showMessage(f"Opened {len(added)} image(s)", 5000)
        self._update_actions()
        self.images_opened.emit(added)

    def add_image(self, image: Any, name: str, path: Path | None = None) -> OpenImage:
        """Add an in-memory `Image` (pasted, dropped data, generated) and select it."""
        qimage = to_qimage(image)
        item, new = self.images.add(OpenImage(name=name, image=image, path=path, view=qimage))
        if new:
            self._add_list_item(item, thumbnail(qimage, THUMB_PX))
        self.select_image(item)
        self._update_actions()
        self.images_opened.emit([item] if new else [])
        return item

    def _add_list_item(self, item: OpenImage, thumb: QImage | None) -> None:
        entry = QListWidgetItem(item.name)
        if thumb is not None:
            entry.setIcon(QIcon(QPixmap.fromImage(thumb)))
        size = f"{item.image.width}x{item.image.height}" if item.image is not None else ""
        entry.setToolTip(f"{item.path or item.name}\n{size}")
        self.image_list.addItem(entry)

    def select_image(self, item: OpenImage) -> None:
        self.image_list.setCurrentRow(self.images.index_of(item))

    def close_current(self) -> None:
        row = self.image_list.currentRow()
        if row < 0:
            return
        item = self.images.remove(row)
        self.cache.drop_image(item)
        if item is self._generated:
            self._generated = None
        self.image_list.takeItem(row)
        self._select_row(self.image_list.currentRow())

    def paste(self) -> None:
        """Ctrl+V: image files (URLs) or image data from the clipboard."""
        self._open_mime(QGuiApplication.clipboard().mimeData(), "Pasted")

    def _open_mime(self, mime: QMimeData | None, label: str) -> bool:
        if mime is None:
            return False
        urls = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []
        if urls:
            self.open_paths([Path(u) for u in urls])
            return True
        for fmt in ("image/png", "image/jpeg", "image/webp", "image/tiff", "image/bmp"):
            if mime.hasFormat(fmt):
                data = bytes(mime.data(fmt).data())
                try:
                    from translator.imageio import decode_image_bytes

                    image = decode_image_bytes(data, f"{label.lower()} {fmt}")
                except TranslatorError as exc:
                    self.show_error(f"Could not read the {label.lower()} image", exc)
                    return False
                self.add_image(image, self._next_name(label))
                return True
        if mime.hasImage():
            qimage = QImage(mime.imageData())
            if not qimage.isNull():
                self.add_image(from_qimage(qimage), self._next_name(label))
                return True
        self.show_error(f"Nothing to open in the {label.lower()} data", "no image or image file")
        return False

    def _next_name(self, label: str) -> str:
        count = sum(1 for item in self.images if item.name.startswith(label)) + 1
        return f"{label} {count}"

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime.hasUrls() or mime.hasImage() or any(mime.hasFormat(f) for f in ("image/png", "image/jpeg")):
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
            self.translator_picker.select(sample.translator)
            self.param_form.set_values(dict(sample.params), strict=False)
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
                    self.translator_picker.set_registry(self.registry, sample.translator)
                    self._fill_samples_menu()
                self.show_error(f"Could not make the sample {sample.title!r}", exc)
                return
            self.add_image(image, self._next_name(sample.title))
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

    # ==== sketches ===============================================================================

    def new_sketch(self, background: QImage | None = None, name: str | None = None) -> OpenImage:
        """A sketch page (blank, or drawing over `background`) added as an image and selected."""
        document = SketchDocument(background)
        item = OpenImage(name=name or self._next_name("Sketch"), image=document.to_image(),
                         sketch=document)
        item.view = document.composite()
        document.changed.connect(lambda it=item: self._sketch_changed(it))
        self.images.add(item)
        self._add_list_item(item, thumbnail(item.view, THUMB_PX))
        self.select_image(item)
        if self.registry is not None and "pix2pix" in self.registry.translators and (
                self.spec is None or self.spec.name != "pix2pix"):
            self.translator_picker.select("pix2pix")
        self._update_actions()
        return item

    def draw_over_current(self) -> OpenImage | None:
        item = self.images.current
        if item is None or item.image is None:
            self.show_info("Open an image first to draw over it")
            return None
        qimage = item.view if isinstance(item.view, QImage) else to_qimage(item.image)
        return self.new_sketch(qimage, f"Drawing over {item.name}")

    def _sketch_changed(self, item: OpenImage) -> None:
        document: SketchDocument = item.sketch
        item.replace_pixels(document.to_image())
        item.view = document.composite()
        row = self.images.index_of(item)
        self.image_list.item(row).setIcon(QIcon(QPixmap.fromImage(thumbnail(item.view, THUMB_PX))))
        if item is self.images.current:
            self.canvas.set_images(self._pixmap(item), self.canvas.after_pixmap)
            if self.sketch_bar.live.isChecked():
                self._live_timer.start()

    def _live_run(self) -> None:
        item = self.images.current
        if item is None or self.spec is None or (
                item.sketch is None and self.param_form.color_points_control() is None):
            return
        if self._run_task is not None:
            self._rerun_pending = True
            self._run_task.cancel()
            return
        self.run_current()

    def _sketch_do(self, what: str) -> None:
        item = self.images.current
        if item is not None and item.sketch is not None:
            getattr(item.sketch, what)()

    # ==== selection and display ==================================================================

    def _select_row(self, row: int) -> None:
        self.images.current_index = row
        self._install_tools()
        self._refresh_history()
        self._refresh_canvas(new_image=True)
        self._update_actions()

    def _target(self) -> OpenImage | None:
        """The image runs apply to: the current image, or the generated slot for generators."""
        if self.spec is not None and not self.spec.task.needs_input:
            return self._generated
        return self.images.current

    def _pixmap(self, obj: Any) -> QPixmap:
        """The (cached) pixmap of an `OpenImage`'s pixels or a `RunRecord`'s result."""
        key = id(obj)
        revision = getattr(obj, "revision", 0)
        cached = self._pixmaps.get(key)
        if cached is not None and cached[0] is obj and cached[2] == revision:
            self._pixmaps.move_to_end(key)
            return cached[1]
        image = obj.result if isinstance(obj, RunRecord) else obj.image
        if not isinstance(obj.view, QImage):
            obj.view = to_qimage(image)
        pixmap = QPixmap.fromImage(obj.view)
        self._pixmaps[key] = (obj, pixmap, revision)
        while len(self._pixmaps) > 12:
            self._pixmaps.popitem(last=False)
        return pixmap

    def _refresh_canvas(self, new_image: bool = False) -> None:
        generate = self.spec is not None and not self.spec.task.needs_input
        item = self.images.current
        before = None
        if not generate and item is not None and item.image is not None:
            before = self._pixmap(item)
        record = self._record_to_show()
        self.shown_record = record
        self.canvas.set_images(before, self._pixmap(record) if record is not None else None)
        if record is not None:
            self.canvas.after_label.setText(f"After: {record.label()}")
        if new_image:
            self.canvas.fit()
        self.hint_tool.set_points(self._current_hints())
        self._update_actions()

    def _record_to_show(self) -> RunRecord | None:
        """The cached result of the current settings, else the target's latest run (kept when a
        parameter changes, so the result never disappears)."""
        target = self._target()
        key = self._current_key()
        if key is not None:
            hit = self.cache.get(key)
            if hit is not None:
                return hit
        if self.shown_record is not None and target is not None and self.shown_record in target.history:
            return self.shown_record
        if target is not None and target.history:
            return target.history[-1]
        return None

    def _current_key(self) -> Any:
        if self.spec is None:
            return None
        try:
            params = self.param_form.values()
        except TranslatorError:
            return None
        target = self._target() if self.spec.task.needs_input else None
        if self.spec.task.needs_input and (target is None or target.image is None):
            return None
        return self.cache.key(target, self.spec.name, self.model_picker.current_model(), params)

    def _refresh_history(self) -> None:
        self.history_list.clear()
        target = self._target() if self.spec is not None else self.images.current
        for record in reversed(target.history if target is not None else []):
            entry = QListWidgetItem(record.label())
            entry.setData(Qt.ItemDataRole.UserRole, record)
            entry.setToolTip(json.dumps(_jsonable(record.params), indent=1))
            self.history_list.addItem(entry)

    def _history_clicked(self, entry: QListWidgetItem) -> None:
        record = entry.data(Qt.ItemDataRole.UserRole)
        if record is not None:
            self.show_record(record)

    def show_record(self, record: RunRecord) -> None:
        """Show a past result in the after pane."""
        self.shown_record = record
        self.canvas.set_after(self._pixmap(record))
        self.canvas.after_label.setText(f"After: {record.label()}")
        self._update_actions()

    def _install_tools(self) -> None:
        item = self.images.current
        if self._sketch_tool is not None:
            self._sketch_tool.detach()
            self._sketch_tool = None
        if item is not None and item.sketch is not None:
            self._sketch_tool = SketchTool(self.canvas.before, item.sketch, self)
            self.canvas.before.tool = self._sketch_tool
            self.sketch_bar.set_document(item.sketch)
            self.sketch_bar.show()
            return
        self.sketch_bar.hide()
        self.sketch_bar.set_document(None)
        hints = self.param_form.color_points_control()
        self.canvas.before.tool = self.hint_tool if hints is not None else None
        if hints is None:
            self.hint_tool.set_points(())

    # ==== translator, model, device, parameters ==================================================

    def _translator_changed(self, name: str | None) -> None:
        spec = self.registry.translators.get(name) if (self.registry is not None and name) else None
        self.spec = spec
        self.description.setText(spec.description if spec is not None else "")
        saved = self._saved_params(spec) if spec is not None else {}
        self.param_form.blockSignals(True)
        self.param_form.set_params(spec.params if spec is not None else (), saved)
        self.param_form.blockSignals(False)
        self.params_title.setVisible(bool(spec is not None and spec.params))
        if spec is not None:
            self.settings.setValue("translator", spec.name)
            hints = self.param_form.color_points_control()
            if hints is not None:
                hints.changed.connect(self._hint_control_changed)
        self._refresh_models()
        self._install_tools()
        self._refresh_history()
        self._refresh_canvas()

    def _refresh_models(self, select: str | None = None) -> None:
        form, row = self._model_row
        form.setRowVisible(row, self.spec is None or self.spec.weights)
        if self.spec is None or self.store is None or not self.spec.weights:
            self.model_picker.set_entries([])
            self.catalog_hint.hide()
            return
        try:
            entries = self.store.list(self.spec.name)
            default = self.store.default(self.spec.name)
        except TranslatorError as exc:
            self.show_error("Could not list models", exc)
            entries, default = [], None
        saved = select or self.settings.value(f"model/{self.spec.name}", None)
        self.model_picker.set_entries(entries, default.name if default is not None else None, saved)
        self._update_catalog_hint(entries)

    def _update_catalog_hint(self, entries: Sequence[Any]) -> None:
        """Point at the catalog when the translator's only model is the bundled demonstration."""
        demo_only = bool(entries) and all(e.bundled for e in entries)
        published = 0
        if demo_only and self.spec is not None:
            from translator.catalog import load_catalog

            owner = self.registry.owner(self.spec.name)
            published = sum(1 for e in load_catalog(self.registry).for_plugin(owner) if e.supported)
        self.catalog_hint.setText(
            f"Only the bundled demonstration model is installed. The catalog has {published} published "
            f"models of the paper's authors: <a href=\"catalog\">Models &gt; Get models...</a>")
        self.catalog_hint.setVisible(published > 0)

    def _model_changed(self, _index: int) -> None:
        if self.spec is not None:
            self.settings.setValue(f"model/{self.spec.name}", self.model_picker.current_model() or "")
        self._refresh_canvas()

    def _device_changed(self, _index: int) -> None:
        if self.device_picker.currentData() is not None:
            self.settings.setValue("device", self.device_picker.current_device())
            self.settings.setValue("precision", self.precision_picker.current_precision())

    def _params_changed(self) -> None:
        if self.spec is None:
            return
        try:
            values = self.param_form.values()
        except TranslatorError as exc:
            self.statusBar().showMessage(str(exc), 5000)
            return
        self.settings.setValue(f"params/{self.spec.name}", json.dumps(_jsonable(values)))
        key = self._current_key()
        hit = self.cache.get(key) if key is not None else None
        if hit is not None:
            self.show_record(hit)
        elif self.shown_record is not None:
            self.canvas.after_label.setText(f"After: {self.shown_record.label()}  "
                                            "(parameters changed: Ctrl+Return to run)")

    def _saved_params(self, spec: TranslatorSpec) -> dict[str, Any]:
        raw = self.settings.value(f"params/{spec.name}", None)
        if not raw:
            return {}
        try:
            values = json.loads(str(raw))
        except ValueError:
            return {}
        return values if isinstance(values, dict) else {}

    # -- colour hints -------------------------------------------------------------------------

    def _current_hints(self) -> tuple[ColorPoint, ...]:
        control = self.param_form.color_points_control()
        return control.value() if control is not None else ()

    def _hints_edited(self, points: tuple[ColorPoint, ...]) -> None:
        control = self.param_form.color_points_control()
        if control is not None:
            control.set_value(points)

    def _hint_control_changed(self) -> None:
        self.hint_tool.set_points(self._current_hints())
        control = self.param_form.color_points_control()
        if control is not None and control.live.isChecked() and self.images.current is not None:
            self._live_timer.start()

    def _hint_color_at(self, x: float, y: float) -> QColor:
        control = self.param_form.color_points_control()
        item = self.images.current
        shown = self.shown_record if item is not None and self.shown_record in item.history else None
        return hint_color(control.chosen_color() if control is not None else None,
                          shown.view if shown is not None else None, item.view if item is not None else None,
                          x, y, control.color if control is not None else QColor(255, 0, 0))

    # ==== running ================================================================================

    def run_current(self) -> Task | None:
        """Ctrl+Return: run the current translator on the current image in the background.

        A cached result is shown at once instead. Returns the task (None when nothing started).
        """
        spec = self.spec
        if spec is None:
            self.show_error("Cannot run", "choose a translator first" if self.is_ready else
                            "plugins are still loading")
            return None
        if self._run_task is not None or self._batch_task is not None:
            self.statusBar().showMessage("A job is running (Esc cancels it)", 5000)
            return None
        item = self.images.current
        if spec.task.needs_input and (item is None or item.image is None):
            self.show_error("Cannot run", f"{spec.title or spec.name} needs an image: open one first")
            return None
        try:
            params = self.param_form.values()
        except ParameterError as exc:
            self.show_error("Bad parameter", exc)
            return None
        if not spec.task.needs_input:
            if self._generated is None:
                self._generated = OpenImage(name="Generated", image=None)
                self.images.add(self._generated)
                self._add_list_item(self._generated, None)
            item = self._generated
        model_name = self.model_picker.current_model()
        key = self.cache.key(item if spec.task.needs_input else None, spec.name, model_name, params)
        hit = self.cache.get(key)
        if hit is not None:
            self.show_record(hit)
            self.statusBar().showMessage("Shown from the cache", 3000)
            self.run_finished.emit(hit)
            return None
        image = item.image if spec.task.needs_input else None
        device, precision = self.device_picker.current_device(), self.precision_picker.current_precision()

        def work(progress: Any, cancel: threading.Event) -> RunRecord:
            start = time.perf_counter()
            progress(0.0, "loading the model")
            loaded_name, model = self.models.get(spec.name, model_name,
                                                 lambda: self._open_model(spec.name, model_name, progress))
            engine = self._engine(device, precision)
            cancel_check(cancel)
            warnings: list[str] = []
            result = engine.run(spec, model, image, params, progress=progress, cancel=cancel, warn=warnings.append,
                                preview=lambda quick: self.preview_ready.emit(item, to_qimage(quick)))
            record = RunRecord(translator=spec.name, model=loaded_name, params=dict(params),
                               seconds=time.perf_counter() - start, result=result, warnings=tuple(warnings))
            record.view = to_qimage(result)
            return record

        self.progress.setValue(0)
        self.statusBar().showMessage(f"Running {spec.name}...")
        self._run_task = self.runner.start(
            work, name=f"run {spec.name}",
            on_progress=self._on_progress,
            on_done=lambda record, it=item, k=key: self._run_done(it, k, record),
            on_failed=lambda exc, s=spec: self._run_failed(s, exc),
            on_finished=self._run_ended)
        self._update_actions()
        return self._run_task

    def _open_model(self, translator: str, model: str | None, progress: Any = None) -> tuple[str | None, Any]:
        """(model name, network); a plugin whose `build` raises fails the run as `PluginError`,
        which counts towards `Registry.STRIKES` like a failing `translate`."""
        try:
            entry, network = self.store.open(translator, model, progress=progress)
        except TranslatorError:
            raise
        except Exception as exc:  # noqa: BLE001 - the plugin's build, not ours
            raise PluginError(f"{translator}: cannot build its network ({type(exc).__name__}: {exc})") from exc
        return (entry.name if entry is not None else None), network

    def _engine(self, device: str, precision: str) -> Any:
        if self._injected_engine is not None:
            return self._injected_engine
        with self._engine_lock:
            key = (device, precision)
            if key not in self._engines:
                from translator.engine import Engine

                self._engines[key] = Engine(device=device, precision=precision)
            return self._engines[key]

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        if message:
            self.statusBar().showMessage(message)

    def _show_preview(self, item: OpenImage, view: QImage) -> None:
        if item is self._target() and self._run_task is not None:
            self.canvas.set_after(QPixmap.fromImage(view))
            self.canvas.after_label.setText("After: a quick preview, the full size follows")

    def _run_done(self, item: OpenImage, key: Any, record: RunRecord) -> None:
        if self.registry is not None:
            try:
                self.registry.plugin_succeeded(self.registry.owner(record.translator))
            except KeyError:
                pass
        item.history.append(record)
        self.cache.put(key, record)
        if item is self._generated and self._generated in self.images:
            row = self.images.index_of(item)
            self.image_list.item(row).setIcon(QIcon(QPixmap.fromImage(thumbnail(record.view, THUMB_PX))))
        if item is self._target():
            self.shown_record = record
            self._refresh_canvas()
            self._refresh_history()
        took = f"{record.translator} took {record.seconds:.2f} s"
        self.statusBar().showMessage(" ".join([took + (":" if record.warnings else ""), *record.warnings]),
                                     20000 if record.warnings else 8000)
        self.run_finished.emit(record)

    def _run_failed(self, spec: TranslatorSpec, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            self.statusBar().showMessage("Cancelled", 5000)
            self._refresh_canvas()  # no preview of the cancelled run stays
            if not self._rerun_pending:
                self.show_info("Cancelled")
        elif isinstance(exc, PluginError) and self.registry is not None:
            try:  # the same rule as a batch: broken after `Registry.STRIKES` failures in a row
                disabled = self.registry.plugin_failed(self.registry.owner(spec.name), exc.__cause__ or exc)
            except KeyError:
                disabled = False
            if disabled:
                self.show_error(f"{spec.name} failed {self.registry.STRIKES} times in a row and its plugin "
                                f"was disabled", exc)
                self.translator_picker.set_registry(self.registry, spec.name)
            else:
                self.show_error(f"{spec.name} failed", exc)
        else:
            self.show_error(f"{spec.name} failed", exc)
        self.run_finished.emit(exc)

    def _run_ended(self) -> None:
        self._run_task = None
        self.progress.setValue(0)
        self._update_actions()
        if self._rerun_pending:
            self._rerun_pending = False
            self.run_current()

    def cancel(self) -> None:
        """Esc: stop the running translator or batch (it stops at its next check)."""
        for task in (self._run_task, self._batch_task):
            if task is not None:
                task.cancel()
        if self._run_task is not None or self._batch_task is not None:
            self.statusBar().showMessage("Cancelling...")

    @property
    def busy(self) -> bool:
        return self._run_task is not None or self._batch_task is not None

    # ==== output =================================================================================

    def choose_save(self) -> None:
        record = self.shown_record
        if record is None:
            self.show_error("Nothing to save", "run a translator first")
            return
        folder = str(self.settings.value("last_save_dir", "") or self._source_folder() or Path.home())
        suggestion = self._suggest_name(record, Path(folder))
        path, _ = QFileDialog.getSaveFileName(self, "Save result", str(suggestion), SAVE_FILTER)
        if path:
            self.save_result(Path(path), overwrite=Path(path).exists())

    def save_result(self, path: Path, *, overwrite: bool = False) -> Path | None:
        """Write the result shown to `path` (format by suffix, alpha kept where the format has
        it). Never replaces an open input file. Returns the path written, None on error."""
        from translator.imageio import write_image

        record = self.shown_record
        if record is None:
            self.show_error("Nothing to save", "run a translator first")
            return None
        inputs = [item.path for item in self.images if item.path is not None]
        try:
            written = write_image(path, record.result, overwrite=overwrite, protected=inputs)
        except TranslatorError as exc:
            self.show_error("Could not save", exc)
            return None
        self.settings.setValue("last_save_dir", str(Path(path).parent))
        self.statusBar().showMessage(f"Saved {written}", 8000)
        return written

    def choose_save_all(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Save all results into",
                                                  str(self.settings.value("last_save_dir", "")))
        if folder:
            self.save_all(Path(folder))

    def save_all(self, folder: Path, fmt: str = "png") -> list[Path]:
        """Save the latest result of every open image into `folder` as `<stem>_<translator>.<fmt>`."""
        from translator.imageio import suggest_output_path, write_image

        inputs = [item.path for item in self.images if item.path is not None]
        written, failed = [], []
        for item in self.images:
            if not item.history:
                continue
            record = item.history[-1]
            target = suggest_output_path(item.path or Path(item.name), folder, record.translator, fmt)
            try:
                written.append(write_image(target, record.result, protected=inputs))
            except TranslatorError as exc:
                failed.append(f"{item.name}: {exc}")
        if failed:
            self.messages.show_message(f"{len(failed)} result(s) not saved", "error", "\n".join(failed))
        self.settings.setValue("last_save_dir", str(folder))
        self.statusBar().showMessage(f"Saved {len(written)} result(s) to {folder}", 8000)
        return written

    def copy_result(self) -> None:
        record = self.shown_record
        if record is None:
            self.show_error("Nothing to copy", "run a translator first")
            return
        QGuiApplication.clipboard().setImage(record.view if isinstance(record.view, QImage)
                                             else to_qimage(record.result))
        self.statusBar().showMessage("Result copied", 3000)

    def _source_folder(self) -> Path | None:
        item = self.images.current
        return item.path.parent if item is not None and item.path is not None else None

    def _suggest_name(self, record: RunRecord, folder: Path) -> Path:
        from translator.imageio import suggest_output_path

        item = self.images.current
        stem = item.path if item is not None and item.path is not None else \
            Path(item.name if item is not None else "generated")
        return suggest_output_path(stem, folder, record.translator, "png")

    # ==== batch ==================================================================================

    def choose_batch(self) -> None:
        from translator.gui.dialogs import BatchDialog

        dialog = BatchDialog(self, open_count=sum(1 for i in self.images if i.image is not None),
                             settings=self.settings)
        if dialog.exec():
            source, out_dir, fmt = dialog.choice()
            items = self.open_batch_items() if source is None else items_from_paths([source])
            self.start_batch(items, out_dir, fmt)

    def open_batch_items(self) -> list[BatchItem]:
        return [BatchItem(label=item.name, path=item.path, image=item.image)
                for item in self.images if item.image is not None]

    def start_batch(self, items: Sequence[BatchItem], out_dir: Path, fmt: str = "png") -> Task | None:
        """Run the current translator over `items` into `out_dir` in the background; the report
        (written files and per-file errors) is shown at the end and sent by `batch_finished`."""
        spec = self.spec
        if spec is None or self.busy:
            self.show_error("Cannot start the batch", "choose a translator first" if spec is None
                            else "a job is running")
            return None
        if not items:
            self.show_error("Cannot start the batch", "no images to process")
            return None
        try:
            params = self.param_form.values()
        except ParameterError as exc:
            self.show_error("Bad parameter", exc)
            return None
        model_name = self.model_picker.current_model()
        device, precision = self.device_picker.current_device(), self.precision_picker.current_precision()

        # Results already in the cache for these images, translator, model and params (looked up
        # here, in the GUI thread) are written without running again.
        hits = {id(open_item.image): record.result for open_item in self.images if open_item.image is not None
                and (record := self.cache.get(self.cache.key(open_item, spec.name, model_name, params)))}
        outcomes: list[PluginError | None] = []  # per input in order: None (worked) or the plugin's failure

        def on_item(result: ItemResult) -> None:  # the engine reports a plugin's failure as PluginError
            if result.error is None or isinstance(result.error, PluginError):
                outcomes.append(result.error)

        def work(progress: Any, cancel: threading.Event) -> BatchReport:
            _, model = self.models.get(spec.name, model_name, lambda: self._open_model(spec.name, model_name, progress))
            engine = self._engine(device, precision)

            def run_one(image: Any, report: Any, warn: Any) -> Any:
                return engine.run(spec, model, image, params, progress=report, cancel=cancel, warn=warn)

            return run_batch(items, run_one, out_dir, spec.name, fmt, progress=progress, cancel=cancel,
                             cached=lambda item: hits.get(id(item.image)) if item.image is not None else None,
                             on_item=on_item)

        self.settings.setValue("last_batch_dir", str(out_dir))
        self.statusBar().showMessage(f"Batch of {len(items)} image(s)...")
        self._batch_task = self.runner.start(
            work, name="batch", on_progress=self._on_progress,
            on_done=lambda report: (self._count_plugin_outcomes(spec, outcomes), self._batch_done(report)),
            on_failed=lambda exc: (self.show_error("Batch failed", exc), self.batch_finished.emit(exc)),
            on_finished=self._batch_ended)
        self._update_actions()
        return self._batch_task

    def _count_plugin_outcomes(self, spec: TranslatorSpec, outcomes: Sequence[PluginError | None]) -> None:
        """Count a batch's results against its plugin, in order, as single runs are counted:
        broken after `Registry.STRIKES` failures in a row (then said once)."""
        if self.registry is None or spec.name not in self.registry.translators:
            return
        owner = self.registry.owner(spec.name)
        for exc in outcomes:
            if exc is None:
                self.registry.plugin_succeeded(owner)
            elif self.registry.plugin_failed(owner, exc.__cause__ or exc):
                self.show_error(f"{spec.name} failed {self.registry.STRIKES} times in a row and its plugin "
                                f"was disabled", exc)
                self.translator_picker.set_registry(self.registry, spec.name)
                return

    def _batch_done(self, report: BatchReport) -> None:
        details = "\n".join(f"{label}: {why}" for label, why in report.errors)
        level = "error" if report.errors else "info"
        self.messages.show_message(f"Batch: {report.summary()}", level, details)
        self.statusBar().showMessage(f"Batch: {report.summary()}", 8000)
        if report.errors:
            box = QMessageBox(QMessageBox.Icon.Warning, "Batch finished",
                              f"{report.summary()}.\n\nFiles that failed:", QMessageBox.StandardButton.Ok, self)
            box.setDetailedText(details)
            box.setInformativeText("\n".join(f"{label}: {why}" for label, why in report.errors[:10]))
            box.setModal(False)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.show()
            self.batch_report_box = box
        self.batch_finished.emit(report)

    def _batch_ended(self) -> None:
        self._batch_task = None
        self.progress.setValue(0)
        self._update_actions()

    # ==== models =================================================================================

    def choose_model_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import a model", str(self.settings.value("last_model_dir", "")),
            "Weights (*.pth *.pt *.safetensors *.ckpt);;All files (*)")
        if path:
            self.settings.setValue("last_model_dir", str(Path(path).parent))
            self.import_model(Path(path))

    def import_model(self, path: Path, plugin: str | None = None) -> Task | None:
        """Import a weights file into the model store in the background (any plugin that
        recognises it); the new model is selected when it belongs to the current translator."""
        if self.store is None:
            self.show_error("Cannot import yet", "plugins are still loading")
            return None
        self.statusBar().showMessage(f"Importing {path.name}...")

        def work(progress: Any, cancel: threading.Event) -> Any:
            return self.store.import_file(path, plugin)

        def done(entry: Any) -> None:
            self.show_info(f"Imported {path.name} as {entry.translator}/{entry.name}")
            self.models.clear()
            if self.spec is not None and entry.translator != self.spec.name:
                self.translator_picker.select(entry.translator)
            self._refresh_models(select=entry.name)
            self.models_changed.emit()

        return self.runner.start(work, name="import", on_done=done,
                                 on_failed=lambda exc: self.show_error(f"Could not import {path.name}", exc))

    def show_models_dialog(self) -> None:
        from translator.gui.dialogs import ModelsDialog

        if self.store is None:
            self.show_error("Models", "plugins are still loading")
            return
        dialog = ModelsDialog(self.store, self)
        dialog.import_requested.connect(self.choose_model_import)
        dialog.removed.connect(lambda _name: (self.models.clear(), self._refresh_models()))
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
        dialog.installed.connect(self._model_installed)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def _model_installed(self, entry: Any) -> None:
        self.models.clear()
        if self.spec is None or entry.translator != self.spec.name:
            self.translator_picker.select(entry.translator)
        self._refresh_models(select=entry.name)
        self.models_changed.emit()

    # ==== state of actions, settings =============================================================

    def _update_actions(self) -> None:
        busy = self.busy
        has_result = self.shown_record is not None
        item = self.images.current
        self.run_action.setEnabled(self.spec is not None and not busy)
        self.run_button.setEnabled(self.spec is not None and not busy)
        self.cancel_action.setEnabled(busy)
        self.cancel_button.setEnabled(busy)
        self.save_action.setEnabled(has_result)
        self.copy_action.setEnabled(has_result)
        self.save_all_action.setEnabled(any(i.history for i in self.images))
        self.batch_action.setEnabled(self.spec is not None and not busy)
        self.draw_over_action.setEnabled(item is not None and item.image is not None)
        self.close_action.setEnabled(item is not None)
        sketching = item is not None and item.sketch is not None
        self.undo_action.setEnabled(sketching)
        self.redo_action.setEnabled(sketching)

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
        self.runner.cancel_all()
        self.runner.wait(5000)
        super().closeEvent(event)


def cancel_check(cancel: threading.Event) -> None:
    if cancel.is_set():
        raise Cancelled("cancelled")


def _list_devices() -> Any:
    from translator.device import list_devices

    return list_devices()


def _device_info(name: str) -> Any:
    from translator.device import DeviceInfo

    return DeviceInfo(name, name.upper() if name == "cpu" else name)


def _jsonable(value: Any) -> Any:
    if isinstance(value, ColorPoint):
        return {"x": value.x, "y": value.y, "rgb": list(value.rgb)}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
