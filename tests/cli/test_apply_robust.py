"""`translator apply` under attack: colliding outputs, misbehaving plugins, a full disk, bad
output folders and folder scans that loop or cannot be listed."""
from __future__ import annotations

import errno
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from translator.cli.main import main

# A plugin whose behaviour depends on the red value of an input's first pixel, so that one batch
# can mix good inputs with every kind of plugin failure.
FLAKY_PLUGIN = '''
import sys
from translator import api
from translator.errors import PluginError

def _build(config):
    import torch
    return torch.nn.Identity()

def _translate(model, images, params, ctx):
    red = float(images[0, 0, 0, 0])
    if red > 0.9:
        raise RuntimeError("plain crash in translate")
    if 0.7 < red < 0.8:
        raise PluginError("the plugin gave up")
    if 0.45 < red < 0.55:
        return images * float("nan")
    if 0.2 < red < 0.3:
        sys.exit(3)
    if 0.1 < red < 0.15:
        class Odd(BaseException):
            pass
        raise Odd("odd")
    return images

@api.hookimpl
def translator_translators():
    return [api.TranslatorSpec(name="flaky", title="Flaky", description="d",
                               task=api.TaskKind.IMAGE_TO_IMAGE, build=_build, translate=_translate,
                               default_config={})]
'''


@pytest.fixture
def sepia(example_distribution):
    """The example plugin, installed: its `sepia` filter."""
    return example_distribution


def _image(path: Path, red: int = 10, size: tuple[int, int] = (6, 5)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    array = np.zeros((*size, 3), np.uint8)
    array[..., 2] = red  # BGR
    assert cv2.imwrite(str(path), array)
    return path


def test_overwrite_never_lets_outputs_of_one_run_replace_each_other(sepia, tmp_path, capsys):
    inputs = tmp_path / "in"
    for name, red in (("a.png", 10), ("a.jpg", 120), ("sub/a.png", 240)):
        _image(inputs / name, red)
    out = tmp_path / "out"
    args = ["apply", "--plugin", "sepia", "--param", "strength=0", "--overwrite", str(inputs), "-o", str(out)]
    assert main(args) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == ["a_sepia-2.png", "a_sepia-3.png", "a_sepia.png"]
    reds = sorted(int(cv2.imread(str(out / name))[0, 0, 2]) for name in written)
    assert reds[0] < 20 and 100 < reds[1] < 140 and reds[2] > 230  # three distinct results kept
    err = capsys.readouterr().err
    assert err.count("-> ") == 0  # progress lines go to stdout
    # A second run with --overwrite replaces its own earlier outputs, name for name.
    assert main(args) == 0
    assert sorted(p.name for p in out.iterdir()) == written


def test_plugin_failures_are_counted_and_the_batch_goes_on(fake_distribution, tmp_path, capsys):
    fake_distribution("translator-plugin-flaky", "tp_flaky", FLAKY_PLUGIN, entry="flaky")
    inputs = tmp_path / "in"
    reds = {"1-crash.png": 255, "2-good.png": 10, "3-error.png": 191, "4-good.png": 20, "5-nan.png": 128,
            "6-good.png": 5, "7-exit.png": 64, "8-good.png": 40, "9-odd.png": 32}
    for name, red in reds.items():
        _image(inputs / name, red)
    out = tmp_path / "out"
    status = main(["apply", "--plugin", "flaky", "--quiet", str(inputs), "-o", str(out)])
    err = capsys.readouterr().err
    assert status == 1
    assert sorted(p.name for p in out.iterdir()) == [f"{i}-good_flaky.png" for i in (2, 4, 6, 8)]
    assert "1-crash.png: flaky failed: RuntimeError: plain crash in translate" in err
    assert "3-error.png: the plugin gave up" in err
    assert "5-nan.png: flaky produced NaN" in err
    assert "7-exit.png: flaky failed: SystemExit: 3" in err
    assert "9-odd.png: flaky failed: Odd: odd" in err
    assert "5 of 9 input(s) failed" in err
    assert "marked broken" not in err and "Traceback" not in err


def test_repeated_plugin_failures_mark_it_broken_but_the_batch_still_goes_on(fake_distribution, tmp_path,
                                                                            capsys):
    fake_distribution("translator-plugin-flaky", "tp_flaky", FLAKY_PLUGIN, entry="flaky")
    inputs = tmp_path / "in"
    for i in range(4):
        _image(inputs / f"{i}-crash.png", 255)
    _image(inputs / "9-good.png", 10)
    status = main(["apply", "--plugin", "flaky", "--quiet", str(inputs), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 1
    assert err.count("plugin 'flaky' marked broken after 3 failures in a row") == 1
    assert "5 input(s)" in err and "4 of 5 input(s) failed" in err
    assert (tmp_path / "out" / "9-good_flaky.png").exists()


def test_a_plugin_failing_to_build_its_network_is_one_line(fake_distribution, tmp_path, capsys):
    fake_distribution("translator-plugin-flaky", "tp_flaky",
                      FLAKY_PLUGIN.replace("return torch.nn.Identity()", "raise ValueError('no network')"),
                      entry="flaky")
    _image(tmp_path / "a.png")
    args = ["apply", "--plugin", "flaky", "--quiet", str(tmp_path / "a.png"), "-o", str(tmp_path / "o")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "cannot build its network (ValueError: no network)" in err and "Traceback" not in err


def test_full_disk_stops_the_batch_with_a_summary(sepia, tmp_path, capsys, monkeypatch):
    import translator.imageio as imageio

    inputs = tmp_path / "in"
    for i in range(5):
        _image(inputs / f"{i}.png")
    real_fdopen = os.fdopen
    writes = []

    class FullDisk:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            writes.append(len(data))
            if len(writes) > 2:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self.handle.write(data)

        def flush(self):
            self.handle.flush()

        def fileno(self):
            return self.handle.fileno()

    monkeypatch.setattr(imageio.os, "fdopen", lambda fd, mode: FullDisk(real_fdopen(fd, mode)))
    out = tmp_path / "out"
    status = main(["apply", "--plugin", "sepia", "--quiet", str(inputs), "-o", str(out)])
    err = capsys.readouterr().err
    assert status == 1
    assert sorted(p.name for p in out.iterdir()) == ["0_sepia.png", "1_sepia.png"]  # no temporary left
    assert "2.png: No space left on device" in err
    assert "stopped early" in err and "no space left on device; 2 input(s) not tried" in err
    assert "3 of 5 input(s) failed" in err and "Traceback" not in err


def test_output_folder_under_a_file_or_not_writable_is_one_line(sepia, tmp_path, capsys, monkeypatch):
    image = _image(tmp_path / "a.png")
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    assert main(["apply", "--plugin", "sepia", str(image), "-o", str(blocker / "out")]) == 2
    assert "a part of the path is a file" in capsys.readouterr().err
    assert main(["apply", "--plugin", "sepia", str(image), "-o", str(blocker)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == locked else real_access(p, mode))
    assert main(["apply", "--plugin", "sepia", str(image), "-o", str(locked)]) == 2
    assert "not writable" in capsys.readouterr().err


def test_symlink_loops_do_not_make_the_scan_explode(sepia, tmp_path, capsys):
    inputs = tmp_path / "in"
    _image(inputs / "a.png")
    _image(inputs / "deeper" / "b.png")
    for name in ("loop1", "loop2"):
        (inputs / name).symlink_to(inputs, target_is_directory=True)
        (inputs / "deeper" / name).symlink_to(inputs, target_is_directory=True)
    out = tmp_path / "out"
    assert main(["apply", "--plugin", "sepia", "--quiet", str(inputs), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a_sepia.png", "b_sepia.png"]


def test_unreadable_subfolder_is_reported_not_skipped_silently(sepia, tmp_path, capsys, monkeypatch):
    inputs = tmp_path / "in"
    _image(inputs / "a.png")
    _image(inputs / "secret" / "b.png")
    real_iterdir = Path.iterdir

    def iterdir(self):
        if self.name == "secret":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    status = main(["apply", "--plugin", "sepia", "--quiet", str(inputs), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 1
    assert "secret: cannot list the folder (Permission denied); skipped" in err
    assert "1 of 2 input(s) failed" in err
    assert (tmp_path / "out" / "a_sepia.png").exists()


def test_a_pipe_given_as_input_is_reported_not_read(sepia, tmp_path, capsys):
    pipe = tmp_path / "pipe.png"
    os.mkfifo(pipe)
    good = _image(tmp_path / "a.png")
    status = main(["apply", "--plugin", "sepia", "--quiet", str(pipe), str(good),
                   "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 1 and "pipe.png: not a file or folder" in err and "1 of 2 input(s) failed" in err


def test_scans_stop_at_a_depth_limit(tmp_path, monkeypatch):
    import translator.imageio as imageio

    monkeypatch.setattr(imageio, "MAX_SCAN_DEPTH", 3)
    deep = tmp_path / "d0" / "d1" / "d2" / "d3" / "d4"
    _image(deep / "too_deep.png")
    _image(tmp_path / "d0" / "d1" / "ok.png")
    reported = []
    found = imageio.find_images([tmp_path / "d0"],
                                on_error=lambda path, why: reported.append((path.name, why)))
    assert [p.name for p in found] == ["ok.png"]
    assert reported == [("d4", "more than 3 folders deep; skipped")]
