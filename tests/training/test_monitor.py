"""Watching a run from another process: the command builder, the request check (the CLI's own
messages), the progress file and its reader, the stop file (pause) and `--resume`, the estimate."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from translator.training import monitor
from translator.training.monitor import ProgressReader, ProgressWriter, TrainRequest


@pytest.fixture
def cyclegan_spec():
    from translator.plugins import load_registry

    return load_registry().translator("cyclegan")


def test_request_arguments_carry_every_choice():
    request = TrainRequest("cyclegan", {"data_a": "/x/a", "data_b": "/x/b"}, init="bundled", steps=50,
                           minutes=2.5, name="mine", size=64, device="cpu", out="/runs", extra=["--ngf", "8"])
    args = request.arguments()
    assert args[:8] == ["--plugin", "cyclegan", "--from", "bundled", "--steps", "50", "--device", "cpu"]
    joined = " ".join(args)
    for part in ("--data-a /x/a", "--data-b /x/b", "--time-limit 2.5", "--name mine", "--size 64",
                 "--out /runs"):
        assert part in joined
    assert args[-2:] == ["--ngf", "8"]
    assert "--time-limit" not in TrainRequest("cyclegan").arguments()
    command = monitor.monitored_command(args, Path("/t/p.jsonl"), Path("/t/stop"))
    assert command[:3] == [sys.executable, "-m", "translator.training"]
    assert command[-4:] == ["--progress-jsonl", "/t/p.jsonl", "--stop-file", "/t/stop"]


def test_check_request_gives_the_cli_messages(tmp_path, unpaired, cyclegan_spec):
    a, b = unpaired(2)
    assert monitor.check_request(cyclegan_spec, TrainRequest("cyclegan", {"data_a": str(a), "data_b": str(b)})) is None
    missing = monitor.check_request(cyclegan_spec, TrainRequest("cyclegan", {"data_a": str(a),
                                                                             "data_b": str(tmp_path / "nope")}))
    assert missing == f"--data-b {tmp_path / 'nope'}: no such folder"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no image files found" in monitor.check_request(
        cyclegan_spec, TrainRequest("cyclegan", {"data_a": str(empty), "data_b": str(b)}))
    assert "needs both --data-a DIR and --data-b DIR" in monitor.check_request(
        cyclegan_spec, TrainRequest("cyclegan", {"data_a": str(a)}))
    assert "--name" in monitor.check_request(
        cyclegan_spec, TrainRequest("cyclegan", {"data_a": str(a), "data_b": str(b)}, name="../x"))
    assert "--steps" in monitor.check_request(
        cyclegan_spec, TrainRequest("cyclegan", {"data_a": str(a), "data_b": str(b)}, extra=["--steps", "many"]))


def test_data_options_follow_the_data_kind(cyclegan_spec):
    assert [dest for dest, _ in monitor.data_options(cyclegan_spec)] == ["data_a", "data_b"]


def test_reader_returns_whole_lines_only_and_skips_garbage(tmp_path):
    path = tmp_path / "p.jsonl"
    reader = ProgressReader(path)
    assert reader.poll() == []                       # not written yet
    writer = ProgressWriter(path)
    writer.event("start", step=0, total=3)
    with path.open("a", encoding="utf-8") as fh:
        fh.write('not json\n[1, 2]\n{"event": "step", "st')   # garbage, then a line being written
    events = reader.poll()
    assert events == [{"event": "start", "step": 0, "total": 3}]
    with path.open("a", encoding="utf-8") as fh:
        fh.write('ep": 1, "losses": {"G": 0.5}}\n')
    assert reader.poll() == [{"event": "step", "step": 1, "losses": {"G": 0.5}}]
    assert reader.poll() == []
    writer.close()
    ProgressWriter(None).event("step")               # no path: nothing happens


def test_estimate_from_an_earlier_run(tmp_path):
    runs = tmp_path / "runs"
    assert monitor.measured_rate(runs, "cyclegan", 64, "cpu") is None
    run = runs / "old"
    run.mkdir(parents=True)
    (run / "options.json").write_text(json.dumps({"options": {"plugin": "cyclegan", "size": 32, "device": "cpu"}}))
    (run / "metrics.csv").write_text("step,time_s,lr,images_per_s,G\n" + "".join(
        f"{i},{i},0.1,{rate},1\n" for i, rate in enumerate([100.0, 8.0, 8.0, 8.0], 1)))
    rate, note = monitor.measured_rate(runs, "cyclegan", 64, "cpu")
    assert rate == pytest.approx(2.0)                # median 8 img/s at 32 px -> 2 img/s at 64 px
    assert "old" in note and "32 px" in note
    assert monitor.measured_rate(runs, "cyclegan", 64, "cuda") is None
    assert monitor.measured_rate(runs, "cyclegan", 32, "auto")[0] == pytest.approx(8.0)
    (run / "options.json").write_text(json.dumps({"options": {"plugin": "cyclegan", "size": 32, "device": "cuda:1"}}))
    assert monitor.measured_rate(runs, "cyclegan", 32, "cuda:0")[0] == pytest.approx(8.0)
    assert monitor.measured_rate(runs, "cyclegan", 32, "cpu") is None
    assert monitor.measured_rate(runs, "pix2pix", 64, "cpu") is None
    assert monitor.estimate_seconds(100, 1, rate) == pytest.approx(50.0)
    assert monitor.estimate_seconds(100, 1, rate, minutes=0.5) == pytest.approx(30.0)
    assert monitor.remaining_seconds(10, 20, 15.0, 0, 5.0) == pytest.approx(10.0)
    assert monitor.remaining_seconds(1, 20, 15.0, 0, 5.0) is None
    assert monitor.remaining_seconds(10, 20, 15.0, 0, 5.0, limit_s=18.0) == pytest.approx(3.0)
    assert monitor.format_duration(42) == "42 s"
    assert monitor.format_duration(600) == "10 min"
    assert monitor.format_duration(7500) == "2 h 05 min"


def _run_until(command: list[str], reader: ProgressReader, events: list, until, timeout: float = 120.0):
    proc = subprocess.Popen(command, env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    try:
        while not until(events) and proc.poll() is None:
            assert time.monotonic() < deadline, "timed out"
            events += reader.poll()
            time.sleep(0.05)
        return proc
    except BaseException:
        proc.kill()
        proc.wait()
        raise


@pytest.mark.slow
def test_stop_file_pauses_with_a_checkpoint_and_resume_finishes(tmp_path, unpaired, tiny_cyclegan):
    a, b = unpaired(3)
    progress, stop = tmp_path / "progress.jsonl", tmp_path / "stop"
    reader, events = ProgressReader(progress), []
    request = TrainRequest("cyclegan", {"data_a": str(a), "data_b": str(b)}, steps=100000, name="paused",
                           device="cpu", sample_every=2, extra=tiny_cyclegan[4:])
    proc = _run_until(monitor.monitored_command(request.arguments(), progress, stop), reader, events,
                      lambda ev: any(e["event"] == "step" and e["step"] >= 2 for e in ev))
    stop.touch()                                     # pause: checkpoint and stop
    assert proc.wait(timeout=60) == 130, proc.stderr.read().decode()
    events += reader.poll()
    assert events[0]["event"] == "start" and events[0]["total"] == 100000
    assert any(e["event"] == "sample" and Path(e["path"]).is_file() for e in events)
    end = events[-1]
    assert end["event"] == "end" and not end["finished"] and end["model"] is None
    assert (tmp_path / "runs" / "paused" / "last.pt").is_file()

    stop.unlink()
    resume = ["--resume", "paused", "--out", str(tmp_path / "runs"), "--steps", str(end["step"] + 2)]
    proc = _run_until(monitor.monitored_command(resume, progress, stop), reader, events,
                      lambda ev: ev[-1]["event"] == "end" and ev[-1]["finished"])
    assert proc.wait(timeout=60) == 0, proc.stderr.read().decode()
    events += reader.poll()
    starts = [e for e in events if e["event"] == "start"]
    assert starts[-1]["resumed"] and starts[-1]["step"] == end["step"]
    assert events[-1] == {"event": "end", "step": end["step"] + 2, "finished": True, "translator": "cyclegan",
                          "model": "paused"}


def test_probe_rate_skips_the_warmup_steps():
    events = [{"event": "start"}] + [{"event": "step", "images_per_s": r} for r in (1.0, 50.0, 9.0, 10.0, 11.0)]
    assert monitor.probe_rate(events, warmup=2) == pytest.approx(10.0)
    assert monitor.probe_rate(events[:3], warmup=2) is None


def test_monitoring_options_are_listed_in_help(capsys):
    from translator.training.cli import main

    with pytest.raises(SystemExit):
        main(["--plugin", "cyclegan", "--help"])
    out = capsys.readouterr().out
    assert "--progress-jsonl FILE" in out and "--stop-file FILE" in out
