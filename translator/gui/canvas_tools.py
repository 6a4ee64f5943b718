"""The tools of the before pane: sketch pages and colour hints, and the live re-run they share.

`CanvasTools` puts the right tool on the canvas's before pane for the current image (a
`SketchTool` on a sketch page, the `HintTool` when the translator takes colour hints, none
otherwise), keeps the session's pixels and the form's hints in step with what is drawn, runs the
translator again `LIVE_DELAY_MS` after the last change, and keeps the recent hint colours (the
palette) in the settings between sessions.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QColor, QImage

from translator.gui.canvas import Canvas
from translator.gui.convert import thumbnail, to_qimage
from translator.gui.hints import HintTool, hint_color
from translator.gui.images_panel import THUMB_PX
from translator.gui.params_form import ColorPointsControl, ParamForm
from translator.gui.sketch import SketchBar, SketchDocument, SketchTool
from translator.params import ColorPoint
from translator.session import OpenImage, Session

LIVE_DELAY_MS = 700
PALETTE_KEY = "hints/palette"
"""Settings key of the recent hint colours: '#rrggbb' names joined by commas, most recent first."""


class CanvasTools(QObject):
    """Sketch and hint tools over `canvas.before`, for `session`'s current image.

    form: the parameter form (its `ColorPointsControl`, when the translator has one, holds the
    hints); take_params(): hands the form's values to the session, False when one is invalid;
    settings: where the palette persists (`value`, `setValue`, e.g. a QSettings).
    """

    def __init__(self, session: Session, canvas: Canvas, sketch_bar: SketchBar, form: ParamForm,
                 take_params: Callable[[], bool], settings: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.canvas, self.sketch_bar, self.form = session, canvas, sketch_bar, form
        self.take_params, self.settings = take_params, settings
        self.hint_tool = HintTool(canvas.before, self.hint_color_at, self)
        self.hint_tool.changed.connect(self._hints_edited)
        self.sketch_tool: SketchTool | None = None
        self.live_timer = QTimer(self)
        self.live_timer.setSingleShot(True)
        self.live_timer.setInterval(LIVE_DELAY_MS)
        self.live_timer.timeout.connect(self.live_run)

    # ==== which tool =============================================================================

    def install(self) -> None:
        """Put the tool for the current image on the before pane and show or hide the sketch bar."""
        item = self.session.images.current
        if self.sketch_tool is not None:
            self.sketch_tool.detach()
            self.sketch_tool = None
        if item is not None and item.sketch is not None:
            self.sketch_tool = SketchTool(self.canvas.before, item.sketch, self)
            self.canvas.before.tool = self.sketch_tool
            self.sketch_bar.set_document(item.sketch)
            self.sketch_bar.show()
            return
        self.sketch_bar.hide()
        self.sketch_bar.set_document(None)
        hints = self.form.color_points_control()
        self.canvas.before.tool = self.hint_tool if hints is not None else None
        if hints is None:
            self.hint_tool.set_points(())

    def translator_changed(self) -> None:
        """A new form was built: follow its hint control (with the saved palette) and retool."""
        control = self.form.color_points_control()
        if control is not None:
            self._restore_palette(control)
            control.changed.connect(self._hint_control_changed)
            control.palette.used.connect(self._save_palette)
        self.install()

    # ==== sketches ===============================================================================

    def new_sketch(self, background: QImage | None = None, name: str | None = None) -> OpenImage:
        """A sketch page (blank, or drawing over `background`) added as an image and selected;
        a translator made for drawings (`TranslatorSpec.takes_drawing`) is chosen when there is one."""
        session = self.session
        document = SketchDocument(background)
        view = document.composite()
        item = OpenImage(name=name or session.next_name("Sketch"), image=document.to_image(),
                         sketch=document, view=view, thumb=thumbnail(view, THUMB_PX))
        document.changed.connect(lambda it=item: self._sketch_changed(it))
        session.add_image(item)
        drawing = session.drawing_translator()
        if drawing is not None and (session.spec is None or session.spec.name != drawing):
            session.select_translator(drawing)
        return item

    def draw_over_current(self) -> OpenImage | None:
        """A sketch page over the current image; None (with a message) when there is none."""
        item = self.session.images.current
        if item is None or item.image is None:
            self.session.events.info.emit("Open an image first to draw over it")
            return None
        qimage = item.view if isinstance(item.view, QImage) else to_qimage(item.image)
        return self.new_sketch(qimage, f"Drawing over {item.name}")

    def sketch_do(self, what: str) -> None:
        """"undo" or "redo" a stroke of the current sketch."""
        item = self.session.images.current
        if item is not None and item.sketch is not None:
            getattr(item.sketch, what)()

    def _sketch_changed(self, item: OpenImage) -> None:
        document: SketchDocument = item.sketch
        view = document.composite()
        self.session.replace_pixels(item, document.to_image(), view, thumbnail(view, THUMB_PX))
        if item is self.session.images.current and self.sketch_bar.live.isChecked() and self.session.spec is not None:
            self.live_timer.start()

    def live_run(self) -> None:
        """Run again after a stroke or a hint change (the timer's end)."""
        item = self.session.images.current
        if item is None or self.session.spec is None or (
                item.sketch is None and self.form.color_points_control() is None):
            return
        if self.take_params():
            self.session.rerun()

    # ==== hints ==================================================================================

    def current_hints(self) -> tuple[ColorPoint, ...]:
        control = self.form.color_points_control()
        return control.value() if control is not None else ()

    def show_hints(self) -> None:
        self.hint_tool.set_points(self.current_hints())

    def _hints_edited(self, points: tuple[ColorPoint, ...]) -> None:
        control = self.form.color_points_control()
        if control is not None:
            control.set_value(points)

    def _hint_control_changed(self) -> None:
        """Hints changed in the form (added, moved, recoloured): redraw them and, with "Run
        after each change" on, run again a moment later."""
        self.show_hints()
        control = self.form.color_points_control()
        if control is not None and control.live.isChecked() and self.session.images.current is not None:
            self.live_timer.start()

    def hint_color_at(self, x: float, y: float) -> QColor:
        """The colour of a new hint at image pixel (x, y) (see `hint_color`)."""
        control = self.form.color_points_control()
        item = self.session.images.current
        shown = self.session.shown if item is not None and self.session.shown in item.history else None
        return hint_color(control.chosen_color() if control is not None else None,
                          shown.view if shown is not None else None, item.view if item is not None else None,
                          x, y, control.color if control is not None else QColor(255, 0, 0))

    # ==== the palette between sessions ===========================================================

    def _restore_palette(self, control: ColorPointsControl) -> None:
        saved = self.settings.value(PALETTE_KEY, "")
        text = ",".join(saved) if isinstance(saved, list) else str(saved or "")
        names = [n for n in text.split(",") if QColor.isValidColorName(n)]
        if names:
            control.palette.set_colors(names)

    def _save_palette(self, colors: list[str]) -> None:
        self.settings.setValue(PALETTE_KEY, ",".join(colors))
