"""The end of a batch, told: a message in the bar, and a non-modal box listing failed files."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from translator.batch import BatchReport
from translator.gui.messages import MessageBar


def show_batch_report(parent: QWidget, messages: MessageBar, report: BatchReport) -> QMessageBox | None:
    """Put the summary in `messages`; when files failed, also open (and return) a box with them."""
    details = "\n".join(f"{label}: {why}" for label, why in report.errors)
    messages.show_message(f"Batch: {report.summary()}", "error" if report.errors else "info", details)
    if not report.errors:
        return None
    box = QMessageBox(QMessageBox.Icon.Warning, "Batch finished", f"{report.summary()}.\n\nFiles that failed:",
                      QMessageBox.StandardButton.Ok, parent)
    box.setDetailedText(details)
    box.setInformativeText("\n".join(f"{label}: {why}" for label, why in report.errors[:10]))
    box.setModal(False)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.show()
    return box
