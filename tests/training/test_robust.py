"""`translator-train` under attack: hostile run names, absurd sizes and seeds, an unusable
TRANSLATOR_HOME, a full disk during a checkpoint, diverging losses and looping data folders."""
from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from translator.training import checkpoint as checkpoint_module
from translator.training.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from translator.training.cli import main
from translator.training.data import scan_folder
from translator.errors import CheckpointError


@pytest.fixture
def data(unpaired, tiny_cyclegan):
    a, b = unpaired(4)
    return [*tiny_cyclegan, "--data-a", str(a), "--data-b", str(b), "--steps", "2", "--sample-every", "0"]


@pytest.mark.parametrize("name", ["../../escape", "/abs/dir", "a/b", ".hidden", "x" * 300, "-dash", "sp ace",
                                  "dot.", ".."])
def test_run_names_are_validated_like_model_names(data, tmp_path, capsys, name):
    assert main([*data, f"--name={name}"]) == 2
    err = capsys.readouterr().err
    assert "--name" in err and "letters, digits" in err and len(err) < 300
    assert not (tmp_path / "runs").exists() and not (tmp_path / "escape").exists()


def test_resume_name_cannot_leave_the_runs_folder(data, tmp_path, capsys):
    assert main(["--resume", "../x", "--out", str(tmp_path / "runs")]) == 2
    assert "not a run name" in capsys.readouterr().err


def test_a_run_folder_that_is_a_link_is_refused(data, tmp_path, capsys):
    (tmp_path / "runs").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "runs" / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert main([*data, "--name", "linked"]) == 2
    assert "not a run folder" in capsys.readouterr().err
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.parametrize(("option", "message"), [
    (["--seed", str(2**70)], "--seed must be from 0 to 4294967295"),
    (["--seed", "-1"], "--seed must be from 0"),
    (["--size", "1000000"], "--size must be from 8 to 4096"),
    (["--batch-size", "1000000"], "--batch-size must be at most 4096"),
    (["--size", "4096", "--load-size", "4096", "--batch-size", "64"], "is too large"),
    (["--lr", "inf"], "--lr must be a positive finite number"),
    (["--lr", "nan"], "--lr must be a positive finite number"),
    (["--workers", "100000"], "--workers must be at most 64"),
    (["--d-steps", "1000000000"], "--d-steps must be at most 100"),
    (["--load-size", "8192"], "--load-size must be from --size to 4 x --size (128 pixels)"),
])
def test_absurd_values_are_refused_with_a_message(data, capsys, option, message):
    assert main([*data, *option]) == 2
    assert message in capsys.readouterr().err


def test_the_smallest_documented_size_gives_a_message_not_a_traceback(data, capsys):
    assert main([*data, "--size", "8", "--load-size", "8", "--name", "tiny"]) == 2
    err = capsys.readouterr().err
    assert "cyclegan cannot train on 8 x 8 crops" in err and "try a larger --size" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("kind", ["file", "under-file", "unwritable"])
def test_unusable_translator_home_is_one_line(unpaired, tiny_cyclegan, monkeypatch, tmp_path, capsys, kind):
    without_out = tiny_cyclegan[:tiny_cyclegan.index("--out")]
    a, b = unpaired(4)
    home = tmp_path / "home"
    if kind == "file":
        home.write_text("x")
    elif kind == "under-file":
        (tmp_path / "file").write_text("x")
        home = tmp_path / "file" / "home"
    else:
        home.mkdir()
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == home else real_access(p, mode))
    monkeypatch.setenv("TRANSLATOR_HOME", str(home))
    status = main([*without_out, "--data-a", str(a), "--data-b", str(b), "--steps", "1", "--name", "h"])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err and "TRANSLATOR_HOME" in err


def test_nonfinite_losses_stop_with_the_last_good_checkpoint(data, tmp_path, capsys):
    status = main([*data, "--lr", "1e30", "--steps", "6", "--save-every", "1", "--name", "wild"])
    err = capsys.readouterr().err
    assert status == 1
    assert "training diverged at step" in err and "last good checkpoint (step" in err and "lower --lr" in err
    state = load_checkpoint(tmp_path / "runs" / "wild" / CHECKPOINT_NAME)
    import torch

    assert all(torch.isfinite(t).all() for net in state["networks"].values() for t in net.values()
               if t.is_floating_point())
    assert 1 <= state["step"] < 6


class _FullDisk:
    """A file object that takes `room` bytes, then fails as a full disk does."""

    def __init__(self, handle, room: int) -> None:
        self.handle, self.room = handle, room

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()

    def write(self, data):
        self.room -= len(data)
        if self.room < 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self.handle.write(data)

    def __getattr__(self, name):
        return getattr(self.handle, name)


def test_full_disk_during_a_checkpoint_is_a_clear_message(tmp_path, monkeypatch):
    import torch

    path = tmp_path / CHECKPOINT_NAME
    save_checkpoint(path, {"step": 1, "weights": torch.ones(4)})
    real_fdopen = os.fdopen
    monkeypatch.setattr(checkpoint_module.os, "fdopen",
                        lambda fd, mode: _FullDisk(real_fdopen(fd, mode), 600))
    with pytest.raises(CheckpointError) as caught:
        save_checkpoint(path, {"step": 2, "weights": torch.zeros(10_000)})
    message = str(caught.value)
    assert "no space left on device" in message and "previous checkpoint is kept" in message
    assert "inline_container" not in message
    assert load_checkpoint(path)["step"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [CHECKPOINT_NAME]


def test_full_disk_during_training_ends_in_one_line(data, tmp_path, monkeypatch, capsys):
    real_fdopen = os.fdopen
    monkeypatch.setattr(checkpoint_module.os, "fdopen",
                        lambda fd, mode: _FullDisk(real_fdopen(fd, mode), 1000))
    assert main([*data, "--save-every", "1", "--name", "full"]) == 2
    err = capsys.readouterr().err
    assert "could not write the checkpoint (no space left on device)" in err and "Traceback" not in err


def test_training_data_scan_survives_symlink_loops(tmp_path, image_writer):
    folder = tmp_path / "data"
    image_writer(folder, 2)
    image_writer(folder / "sub", 1, seed=3)
    for name in ("x", "y"):
        (folder / name).symlink_to(folder, target_is_directory=True)
        (folder / "sub" / name).symlink_to(folder, target_is_directory=True)
    assert len(scan_folder(folder, "--data")) == 3


def test_training_data_scan_reports_unreadable_subfolders(tmp_path, image_writer, monkeypatch, caplog):
    import errno
    import logging

    folder = tmp_path / "data"
    image_writer(folder, 2)
    image_writer(folder / "locked", 1, seed=3)
    real_iterdir = Path.iterdir

    def iterdir(self):
        if self.name == "locked":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    with caplog.at_level(logging.WARNING):
        assert len(scan_folder(folder, "--data")) == 2
    assert any("locked: cannot list the folder (Permission denied)" in r.getMessage() for r in caplog.records)


def test_an_existing_folder_that_is_not_a_run_is_left_alone(data, tmp_path, capsys):
    folder = tmp_path / "runs" / "mine"
    folder.mkdir(parents=True)
    (folder / "metrics.csv").write_text("precious\n")
    assert main([*data, "--name", "mine"]) == 2
    assert "holds files of something other than a run" in capsys.readouterr().err
    assert (folder / "metrics.csv").read_text() == "precious\n"
