"""Render the app icon `resources/icons/app.svg` to the PNG sizes desktops ask for.

    python packaging/tools/render_icons.py

Writes `resources/icons/app-<N>.png` for each N in `translator_resources.ICON_SIZES` with Qt's
SVG renderer (offscreen, no display needed). Run it again after editing the SVG and commit the PNGs.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

from translator_resources import APP_ICON_SVG, ICON_SIZES, app_icon_png  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def render(svg: Path, size: int) -> QImage:
    """The SVG drawn into a transparent `size` x `size` ARGB image."""
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: cannot read {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    for size in ICON_SIZES:
        out = app_icon_png(size)
        if not render(APP_ICON_SVG, size).save(str(out), "PNG"):
            raise SystemExit(f"render_icons: cannot write {out}")
        print(f"{out.relative_to(ROOT)}: {out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
