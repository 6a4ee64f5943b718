"""`translator` global options with subcommands: `-v` before or after one never starts the app."""
from __future__ import annotations

import logging

import pytest

import translator.gui.app as gui_app
from translator.cli.main import main


@pytest.mark.parametrize("argv", [["-v", "models", "list"], ["--verbose", "models", "list"],
                                  ["models", "list", "-v"]])
def test_verbose_works_with_subcommands(argv, capsys, monkeypatch):
    def no_app(*args, **kwargs):
        raise AssertionError("the GUI was started")

    monkeypatch.setattr(gui_app, "run_app", no_app)
    monkeypatch.setattr(logging.root, "level", logging.WARNING)
    seen = []
    monkeypatch.setattr("translator.cli.main._setup_logging", seen.append)
    assert main(argv) == 0
    assert "cyclegan/" in capsys.readouterr().out
    assert seen == [True]


def test_file_system_error_in_a_subcommand_is_one_line(capsys, monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("TRANSLATOR_HOME", str(blocker / "home"))
    status = main(["models", "import", str(tmp_path / "missing.pth")])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err and err.count("\n") == 1
