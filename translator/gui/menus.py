"""The window's actions, menus and toolbar (File, Samples, Edit, View, Run, Models, Help)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from translator.gui import choosers, resources
from translator.gui import help as help_windows


def make_action(window: QMainWindow, text: str, slot: Callable[[], Any], shortcut: Any = None,
                icon: str | None = None, tip: str = "") -> QAction:
    """An action of `window` calling `slot()`; `shortcut` is one key sequence or a list."""
    action = QAction(text, window)
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
    window.addAction(action)
    return action


def build_actions(w: Any) -> None:
    """Create the window's actions as attributes (`w.open_action`, `w.run_action`, ...), its
    menus and its toolbar. `w` is the `MainWindow`, whose methods the actions call."""
    key = QKeySequence.StandardKey
    a = make_action
    w.open_action = a(w, "&Open images...", lambda: choosers.choose_open(w), key.Open, "open",
                      "Open image files (Ctrl+O)")
    w.open_folder_action = a(w, "Open &folder...", lambda: choosers.choose_open_folder(w), None, "folder")
    w.paste_action = a(w, "&Paste image", w.paste, key.Paste, "paste",
                       "Paste an image or image files from the clipboard (Ctrl+V)")
    w.sketch_action = a(w, "&New sketch", w.new_sketch, "Ctrl+N", "sketch",
                        "A blank page to draw on (for a translator made for drawings)")
    w.draw_over_action = a(w, "&Draw over this image", w.draw_over_current, None, "sketch")
    w.close_action = a(w, "&Close image", w.close_current, "Ctrl+W")
    w.save_action = a(w, "&Save result...", lambda: choosers.choose_save(w), key.Save, "save",
                      "Save the result shown (Ctrl+S)")
    w.save_all_action = a(w, "Save &all results...", lambda: choosers.choose_save_all(w), "Ctrl+Shift+S")
    w.copy_action = a(w, "&Copy result", w.copy_result, "Ctrl+Shift+C", "copy")
    w.batch_action = a(w, "&Batch...", lambda: choosers.choose_batch(w), "Ctrl+B", "batch",
                       "Run the translator over all open images or a folder")
    w.quit_action = a(w, "&Quit", w.close, key.Quit)
    w.run_action = a(w, "&Run", w.run_current, ["Ctrl+Return", "Ctrl+Enter"], "run", "Run the translator (Ctrl+Return)")
    w.cancel_action = a(w, "&Cancel", w.cancel, "Esc", "cancel", "Stop the running job (Esc)")
    w.fit_action = a(w, "&Fit", w.canvas.fit, "Ctrl+0", "fit", "Fit the image (Ctrl+0)")
    w.actual_action = a(w, "&100%", w.canvas.actual_size, "Ctrl+1", "actual", "Actual pixels (Ctrl+1)")
    w.compare_action = a(w, "&Compare (split)", w.canvas.toggle_compare, "C", "compare",
                         "One view with a draggable before/after split (C)")
    w.compare_action.setCheckable(True)
    w.canvas.compare_changed.connect(w.compare_action.setChecked)
    w.undo_action = a(w, "&Undo stroke", lambda: w.sketch_do("undo"), key.Undo, "undo")
    w.redo_action = a(w, "&Redo stroke", lambda: w.sketch_do("redo"), ["Ctrl+Shift+Z", "Ctrl+Y"], "redo")
    w.models_action = a(w, "&Models...", w.show_models_dialog, None, "models")
    w.get_models_action = a(w, "&Get models...", w.show_catalog_dialog, tip="Download the papers' published models")
    w.import_action = a(w, "&Import model...", lambda: choosers.choose_model_import(w), None, "import")
    w.train_action = a(w, "&Train...", w.show_train_dialog,
                       tip="Train or fine-tune a translator on your own images (runs translator-train)")
    w.shortcuts_action = a(w, "&Keyboard shortcuts", lambda: help_windows.show_shortcuts(w, w.actions()),
                           key.HelpContents)
    w.versions_action = a(w, "&Versions and device",
                          lambda: help_windows.show_versions(w, w.session.device, w.session.precision))
    w.about_action = a(w, "&About Translator", lambda: help_windows.show_about(w))

    menus = w.menuBar()
    _fill(menus.addMenu("&File"), (w.open_action, w.open_folder_action, w.paste_action, None, w.sketch_action,
                                   w.draw_over_action, None, w.save_action, w.save_all_action, w.copy_action,
                                   None, w.batch_action, None, w.close_action, w.quit_action))
    w.samples_menu = menus.addMenu("&Samples")
    fill_samples_menu(w)
    _fill(menus.addMenu("&Edit"), (w.undo_action, w.redo_action))
    _fill(menus.addMenu("&View"), (w.fit_action, w.actual_action, w.compare_action))
    _fill(menus.addMenu("&Run"), (w.run_action, w.cancel_action, w.batch_action))
    _fill(menus.addMenu("&Models"), (w.models_action, w.get_models_action, w.import_action, None,
                                     w.train_action))
    _fill(menus.addMenu("&Help"), (w.shortcuts_action, w.versions_action, None, w.about_action))
    toolbar = w.addToolBar("Main")
    toolbar.setObjectName("mainToolbar")
    _fill(toolbar, (w.open_action, w.paste_action, w.sketch_action, w.save_action, None, w.run_action,
                    w.cancel_action, None, w.fit_action, w.actual_action, w.compare_action, None,
                    w.batch_action, w.models_action))


def fill_samples_menu(w: Any) -> None:
    """The Samples menu: the bundled samples, then (once plugins are loaded) each plugin's
    `translator_samples()`; choosing one opens and runs it."""
    w.samples_menu.clear()
    samples: list[tuple[str | None, Any]] = [(None, sample) for sample in resources.samples()]
    plugin_samples = w.registry.samples() if w.registry is not None else []
    for index, (plugin, sample) in enumerate([*samples, *plugin_samples]):
        if index == len(samples) and samples:
            w.samples_menu.addSeparator()
        action = QAction(f"{sample.title}  [{sample.translator}]", w)
        action.setToolTip(sample.description)
        action.triggered.connect(lambda _c=False, s=sample, p=plugin: w.open_sample(s, p))
        w.samples_menu.addAction(action)
    w.samples_menu.setEnabled(bool(samples or plugin_samples))


def _fill(menu: QMenu | Any, actions: Sequence[QAction | None]) -> None:
    for action in actions:
        menu.addSeparator() if action is None else menu.addAction(action)
