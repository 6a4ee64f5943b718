"""File and folder choosers of the window's commands: each asks, remembers the folder in the
settings, then hands the choice to the window (`MainWindow`), which hands it to the session."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog

SAVE_FILTER = "PNG (*.png);;JPEG (*.jpg *.jpeg);;WebP (*.webp);;TIFF (*.tif *.tiff)"
OPEN_FILTER = ("Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.jp2 *.pbm *.pgm *.ppm);;"
               "All files (*)")
WEIGHTS_FILTER = "Weights (*.pth *.pt *.safetensors *.ckpt);;All files (*)"


def choose_open(window: Any) -> None:
    paths, _ = QFileDialog.getOpenFileNames(window, "Open images", str(window.settings.value("last_open_dir", "")),
                                            OPEN_FILTER)
    if paths:
        window.settings.setValue("last_open_dir", str(Path(paths[0]).parent))
        window.open_paths([Path(p) for p in paths])


def choose_open_folder(window: Any) -> None:
    folder = QFileDialog.getExistingDirectory(window, "Open a folder of images",
                                              str(window.settings.value("last_open_dir", "")))
    if folder:
        window.settings.setValue("last_open_dir", folder)
        window.open_paths([Path(folder)])


def choose_save(window: Any) -> None:
    session = window.session
    if session.shown is None:
        window.show_error("Nothing to save", "run a translator first")
        return
    folder = str(window.settings.value("last_save_dir", "") or session.source_folder() or Path.home())
    path, _ = QFileDialog.getSaveFileName(window, "Save result", str(session.suggest_save_path(Path(folder))),
                                          SAVE_FILTER)
    if path:
        window.save_result(Path(path), overwrite=Path(path).exists())


def choose_save_all(window: Any) -> None:
    folder = QFileDialog.getExistingDirectory(window, "Save all results into",
                                              str(window.settings.value("last_save_dir", "")))
    if folder:
        window.save_all(Path(folder))


def choose_batch(window: Any) -> None:
    from translator.batch import items_from_paths
    from translator.gui.dialogs import BatchDialog

    dialog = BatchDialog(window, open_count=len(window.open_batch_items()), settings=window.settings)
    if dialog.exec():
        source, out_dir, fmt = dialog.choice()
        items = window.open_batch_items() if source is None else items_from_paths([source])
        window.start_batch(items, out_dir, fmt)


def choose_model_import(window: Any) -> None:
    path, _ = QFileDialog.getOpenFileName(window, "Import a model", str(window.settings.value("last_model_dir", "")),
                                          WEIGHTS_FILTER)
    if path:
        window.settings.setValue("last_model_dir", str(Path(path).parent))
        window.import_model(Path(path))
