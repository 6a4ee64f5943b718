"""Non-modal messages shown above the canvas: errors stay until closed, notes fade away."""
from __future__ import annotations

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

INFO_SECONDS = 8
MAX_SHOWN = 4


class Message(QFrame):
    """One message: a coloured strip with its text (details as tooltip) and a close button."""

    def __init__(self, text: str, level: str, details: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = text
        self.level = level
        self.setObjectName(f"message-{level}")
        self.setProperty("level", level)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        label = QLabel(text)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if details:
            label.setToolTip(details)
        layout.addWidget(label, 1)
        close = QToolButton()
        close.setText("x")
        close.setToolTip("Dismiss")
        close.setAutoRaise(True)
        close.clicked.connect(self.close_message)
        layout.addWidget(close)

    def close_message(self) -> None:
        if not shiboken6.isValid(self):
            return
        self.hide()
        self.deleteLater()
        parent = self.parent()
        if isinstance(parent, MessageBar):
            parent.forget(self)


class MessageBar(QWidget):
    """A stack of `Message`s; the newest at the bottom, at most `MAX_SHOWN` at once."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self._shown: list[Message] = []
        self.history: list[tuple[str, str]] = []
        """Every (level, text) shown since start, for tests and the log."""

    def show_message(self, text: str, level: str = "error", details: str = "") -> Message:
        message = Message(text, level, details, self)
        self._layout.addWidget(message)
        self._shown.append(message)
        self.history.append((level, text))
        while len(self._shown) > MAX_SHOWN:
            self._shown[0].close_message()
        if level == "info":
            # the message is the timer's context: the timer dies with it (window closed meanwhile)
            QTimer.singleShot(INFO_SECONDS * 1000, message, lambda m=message: m in self._shown and m.close_message())
        return message

    def forget(self, message: Message) -> None:
        if message in self._shown:
            self._shown.remove(message)

    def texts(self, level: str | None = None) -> list[str]:
        """Texts of the messages shown now (of one level, if given)."""
        return [m.text for m in self._shown if level is None or m.level == level]
