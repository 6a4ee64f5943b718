"""Models > Get models...: the catalog of published models, downloaded in the background.

A thin view over `translator.catalog`: the tree lists every plugin's entries with size, licence,
what each expects and whether it is installed; Download runs `catalog.install` in a worker with
progress (bytes and speed) and Cancel. `installed(ModelEntry)` is emitted when a model is ready.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from translator.catalog import CatalogEntry, install, installed, load_catalog
from translator.errors import Cancelled
from translator.gui.workers import Task, TaskRunner

ENTRY_ROLE = Qt.ItemDataRole.UserRole
COLUMNS = ("Model", "Size", "Licence", "Expects", "Status")


class CatalogDialog(QDialog):
    """The catalog by plugin; Download installs the selected entry, Cancel stops it."""

    installed = Signal(object)

    def __init__(self, store: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Get models")
        self.resize(900, 520)
        self.store = store
        self.runner = TaskRunner(max_threads=1, parent=self)
        self.task: Task | None = None
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(COLUMNS))
        for column, width in enumerate((250, 80, 110, 190)):
            self.tree.setColumnWidth(column, width)
        self.tree.currentItemChanged.connect(lambda *_: self._selection_changed())
        self.details = QTextBrowser()
        self.details.setOpenExternalLinks(True)
        self.download_button = QPushButton("Download")
        self.download_button.clicked.connect(self.download_selected)
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.tree)
        split.addWidget(self.details)
        split.setSizes([600, 300])
        buttons = QHBoxLayout()
        buttons.addWidget(self.download_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.refresh()

    # -- the list ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the catalog and the installed marks, keeping the selection."""
        selected = self.selected()
        catalog = load_catalog(self.store.registry)
        self.tree.clear()
        groups: dict[str, QTreeWidgetItem] = {}
        for entry in catalog.entries:
            group = groups.get(entry.plugin)
            if group is None:
                group = groups[entry.plugin] = QTreeWidgetItem(self.tree, [entry.plugin])
                group.setFirstColumnSpanned(True)
                group.setExpanded(True)
            status = "unsupported" if not entry.supported else (
                "installed" if installed(self.store, entry) is not None else "")
            item = QTreeWidgetItem(group, [entry.title, entry.size_text(), _short_licence(entry.licence),
                                           entry.expects, status])
            item.setData(0, ENTRY_ROLE, entry)
            item.setToolTip(0, entry.qualified)
            item.setToolTip(2, entry.licence)
            item.setToolTip(3, entry.expects)
            if not entry.supported:
                item.setDisabled(True)
            if selected is not None and entry.qualified == selected.qualified:
                self.tree.setCurrentItem(item)
        if catalog.problems:
            self.status.setText("Some catalog entries were left out: " + "; ".join(catalog.problems))
        self._selection_changed()

    def item_for(self, qualified: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            for j in range(group.childCount()):
                entry = group.child(j).data(0, ENTRY_ROLE)
                if entry is not None and entry.qualified == qualified:
                    return group.child(j)
        return None

    def selected(self) -> CatalogEntry | None:
        item = self.tree.currentItem()
        return item.data(0, ENTRY_ROLE) if item is not None else None

    def _selection_changed(self) -> None:
        entry = self.selected()
        busy = self.task is not None
        self.download_button.setEnabled(entry is not None and entry.supported and not busy)
        self.cancel_button.setEnabled(busy)
        self.details.setHtml(_details(entry) if entry is not None else "Select a model to see what it does.")
        if entry is not None and not busy:
            self.download_button.setText("Download again" if installed(self.store, entry) else "Download")

    # -- downloading ---------------------------------------------------------------------------

    def download_selected(self) -> Task | None:
        entry = self.selected()
        if entry is None or self.task is not None:
            return None
        force = installed(self.store, entry) is not None
        started = time.monotonic()
        self.status.setText(f"Downloading {entry.title}...")
        self.progress.setValue(0)

        def work(progress: Any, cancel: threading.Event) -> Any:
            def report(filename: str, done: int, total: int | None) -> None:
                speed = done / max(time.monotonic() - started, 1e-3)
                size = f"{done / 1e6:.1f} of {total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
                progress(done / total if total else 0.0, f"{filename}: {size}, {speed / 1e6:.1f} MB/s")

            return install(self.store, entry, force=force, progress=report, cancel=cancel,
                           waiting=lambda: progress(0.0, "waiting for another download of this model..."))

        self.task = self.runner.start(work, name="download", on_done=lambda result: self._done(entry, result),
                                      on_failed=lambda exc: self._failed(entry, exc),
                                      on_progress=self._progress, on_finished=self._finished)
        self._selection_changed()
        return self.task

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.status.setText("Cancelling...")

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.status.setText(message)

    def _done(self, entry: CatalogEntry, result: Any) -> None:
        self.progress.setValue(1000)
        model = result.model
        self.status.setText(f"Installed {entry.title} as {model.translator}/{model.name}.")
        self.installed.emit(model)

    def _failed(self, entry: CatalogEntry, exc: BaseException) -> None:
        self.progress.setValue(0)
        if isinstance(exc, Cancelled):
            self.status.setText(f"Download of {entry.title} cancelled; it resumes where it stopped next time.")
        else:
            self.status.setText(f"Could not install {entry.title}: {exc}")

    def _finished(self) -> None:
        self.task = None
        self.refresh()

    @property
    def busy(self) -> bool:
        return self.task is not None

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        self.runner.cancel_all()
        self.runner.wait(10000)
        super().closeEvent(event)


def _short_licence(licence: str) -> str:
    return licence.split(" (")[0].split(":")[0]


def _details(entry: CatalogEntry) -> str:
    from html import escape

    rows = [("What it does", entry.description), ("Expects", entry.expects), ("Resolution", entry.resolution),
            ("Size", entry.size_text()), ("Licence", entry.licence), ("Paper", entry.paper),
            ("Published at", f'<a href="{escape(entry.source)}">{escape(entry.source)}</a>')]
    if not entry.supported:
        rows.insert(0, ("Not supported", entry.reason))
    if entry.notes:
        rows.append(("Notes", entry.notes))
    body = "".join(f"<p><b>{escape(k)}:</b> {v if k == 'Published at' else escape(v)}</p>" for k, v in rows)
    return f"<h3>{escape(entry.title)}</h3><p><code>{escape(entry.qualified)}</code></p>{body}"
