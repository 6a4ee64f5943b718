"""`translator-train`: two-stage parsing, plugin options in --help, errors as exit code 2."""
from __future__ import annotations

import pytest

from translator.training.cli import main


def test_help_shows_shared_data_and_plugin_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--plugin", "cyclegan", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--data-a", "--data-b", "--gan-loss", "--d-steps", "--resume", "--from", "--save-every",
                 "--lambda-cycle", "--lambda-identity", "--pool-size", "--n-blocks", "cyclegan options"):
        assert flag in text, flag
    assert "default: lsgan" in text and "(default: 10.0)" in text and "(default: 50)" in text
    assert "--direction" not in text  # a paired-data option, not CycleGAN's


def test_without_plugin_the_usage_asks_for_one(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--steps", "3"])
    assert exit_info.value.code == 2
    assert "--plugin" in capsys.readouterr().err


def test_unknown_plugin_and_bad_values_are_reported(capsys, unpaired):
    assert main(["--plugin", "nope"]) == 2
    assert "no translator or plugin named 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--plugin", "cyclegan", "--pool-size", "-3"])
    assert "pool_size" in capsys.readouterr().err
    a, b = unpaired(2)
    assert main(["--plugin", "cyclegan", "--data-a", str(a), "--data-b", str(b), "--steps", "1",
                 "--batch-size", "0"]) == 2
    assert "--batch-size must be at least 1" in capsys.readouterr().err


def test_bad_folder_is_a_clear_error(capsys, tmp_path, unpaired):
    a, _ = unpaired(2)
    code = main(["--plugin", "cyclegan", "--data-a", str(a), "--data-b", str(tmp_path / "missing"),
                 "--steps", "1", "--quiet", "--from", "scratch"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--data-b" in err and "missing: no such folder" in err and "Traceback" not in err


def test_resume_without_a_run_is_a_clear_error(capsys, tmp_path):
    assert main(["--plugin", "cyclegan", "--resume", "ghost", "--out", str(tmp_path)]) == 2
    assert "no run to resume" in capsys.readouterr().err
