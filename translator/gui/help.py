"""The Help menu's windows: keyboard shortcuts, about, versions and the device in use."""
from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox, QWidget

from translator import __version__

MOUSE_HELP = (
    ("Wheel", "zoom around the cursor"),
    ("Drag (left or middle button)", "pan"),
    ("Drag the split line", "move the before/after split in compare mode"),
    ("Click on the image", "add a colour hint (translators that take hints)"),
    ("Right click on a hint", "remove it"),
)


def shortcut_rows(actions: Iterable[QAction]) -> list[tuple[str, str]]:
    """(keys, what) for every action with a shortcut, in the order given."""
    rows = []
    for action in actions:
        keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts())
        if keys:
            rows.append((keys, action.text().replace("&", "")))
    return rows


def shortcuts_text(actions: Iterable[QAction]) -> str:
    """An HTML table of the keyboard shortcuts and mouse gestures."""
    rows = [*shortcut_rows(actions), *MOUSE_HELP]
    body = "".join(f"<tr><td><b>{keys}</b></td><td>&nbsp;&nbsp;{what}</td></tr>" for keys, what in rows)
    return f"<table>{body}</table>"


def show_shortcuts(parent: QWidget, actions: Iterable[QAction]) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", shortcuts_text(actions),
                      QMessageBox.StandardButton.Close, parent)
    box.setModal(False)
    box.show()
    return box


def about_text() -> str:
    return (f"<h3>Translator {__version__}</h3>"
            "<p>Image-to-image translation on your own computer: pix2pix, CycleGAN, colorization "
            "and StyleGAN, with models you can import, download or train, and plugins for more.</p>")


def show_about(parent: QWidget) -> None:
    QMessageBox.about(parent, "About Translator", about_text())


def versions_text(device: str, precision: str) -> str:
    """`translator --version`'s report and the device and precision the app runs on."""
    from translator.gui.about import version_report

    return f"{version_report()}\nrunning on: {device} ({precision})"


def show_versions(parent: QWidget, device: str, precision: str) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Information, "Versions and device", versions_text(device, precision),
                      QMessageBox.StandardButton.Close, parent)
    box.setModal(False)
    box.show()
    return box
