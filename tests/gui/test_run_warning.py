"""A translator's warning about the input (`RunContext.warn`) shows in the status bar."""
from __future__ import annotations

from typing import Any

from gui_fakes import _identity

from translator import api
from translator.session.state import RunRecord


class WarningPlugin:
    """One translator that returns its input and warns that it does not look like a drawing."""

    __name__ = "warner"

    @api.hookimpl
    def translator_translators(self) -> list[api.TranslatorSpec]:
        def translate(model: Any, images: Any, params: Any, ctx: api.RunContext) -> Any:
            ctx.warn("this looks like a photo")
            return images

        return [api.TranslatorSpec(name="warner", title="Warner", description="warns",
                                   task=api.TaskKind.IMAGE_TO_IMAGE, build=_identity, translate=translate)]


def test_run_warning_shows_in_the_status_bar(make_window, open_images, run_wait, write_png):
    window = make_window(WarningPlugin())
    assert window.translator_picker.select("warner")
    open_images(window, [write_png("in.png")])
    record = run_wait(window)
    assert isinstance(record, RunRecord) and record.warnings == ("this looks like a photo",)
    message = window.statusBar().currentMessage()
    assert "warner took" in message and "this looks like a photo" in message
