"""The session model without Qt: opening, running, the cache, history, generators, batches,
imports and restored settings, driven through its methods and observed through its events."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gui.gui_fakes import RECEIVED, CrashPlugin, DrawingPlugin, FakePlugin

from translator.batch import BatchItem
from translator.engine import Engine
from translator.errors import Cancelled, PluginError
from translator.params import ColorPoint
from translator.session import EVENTS, Events, MemorySettings, OpenImage, RunRecord, Session
from translator.store import ModelStore
from translator.testing import make_image


class Recorder:
    """Every event a session emits, as (name, args) in order."""

    def __init__(self, session: Session) -> None:
        self.seen: list[tuple[str, tuple[Any, ...]]] = []
        for name in EVENTS:
            getattr(session.events, name).connect(lambda *args, _n=name: self.seen.append((_n, args)))

    def args(self, name: str) -> list[tuple[Any, ...]]:
        return [args for n, args in self.seen if n == name]

    def texts(self, name: str) -> list[str]:
        return [" ".join(str(a) for a in args) for args in self.args(name)]


@pytest.fixture
def make_session(plugin_registry: Callable[..., Any], tmp_path: Path) -> Callable[..., tuple[Session, Recorder]]:
    """`make_session(*plugins, settings=None)`: a started session over the fake plugins, a store
    in tmp_path and a CPU engine, with a recorder of its events."""

    def make(*plugins: object, settings: MemorySettings | None = None) -> tuple[Session, Recorder]:
        registry = plugin_registry(*(plugins or (FakePlugin(),)))
        session = Session(registry=registry, store=ModelStore(registry, home=tmp_path / "home"),
                          engine=Engine(device="cpu", precision="fp32"), settings=settings)
        recorder = Recorder(session)
        session.start()
        return session, recorder

    return make


def wait(session: Session) -> None:
    assert session.runner.wait(20)


def run(session: Session) -> Any:
    """Run and wait; the outcome (a RunRecord or an exception)."""
    outcomes: list[Any] = []
    session.events.run_finished.connect(outcomes.append)
    session.run()
    wait(session)
    session.events.run_finished.disconnect(outcomes.append)
    return outcomes[-1]


def write_png(path: Path, seed: int = 0, size: tuple[int, int] = (30, 40)) -> Path:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), (np.random.default_rng(seed).random((*size, 3)) * 255).astype(np.uint8))
    return path


def test_events_call_listeners_in_order_and_survive_a_broken_one():
    events = Events("changed")
    seen: list[int] = []
    events.changed.connect(lambda x: 1 / 0)
    events.changed.connect(seen.append)
    events.changed.emit(5)
    assert seen == [5]
    events.changed.disconnect(seen.append)
    events.changed.emit(6)
    assert seen == [5]
    with pytest.raises(AttributeError):
        events.chnaged  # noqa: B018 - a misspelt event is an error


def test_start_selects_the_first_translator_and_says_ready(make_session):
    session, seen = make_session()
    assert session.is_ready and session.spec.name == "echo" and seen.args("ready") == [()]
    assert session.params["strength"] == 1.0 and session.device == "cpu"


def test_open_a_folder_with_a_corrupt_file(make_session, tmp_path):
    session, seen = make_session()
    folder = tmp_path / "in"
    write_png(folder / "a.png", 1)
    write_png(folder / "b.png", 2)
    (folder / "broken.png").write_bytes(b"\x89PNG not really")
    session.open_paths([folder, tmp_path / "missing.png"])
    wait(session)
    (added,) = seen.args("opened")
    assert [i.name for i in added[0]] == ["a.png", "b.png"] and session.images.current is added[0][0]
    (error,) = seen.args("error")
    assert error[0] == "Could not open 2 file(s)" and "broken.png" in error[2] and "missing.png" in error[2]
    session.open_paths([folder / "a.png"])  # already open: not added twice
    wait(session)
    assert len(session.images) == 2 and seen.args("opened")[-1] == ([],)


def test_run_caches_and_switching_back_shows_the_cached_result(make_session, tmp_path):
    session, seen = make_session()
    session.open_paths([write_png(tmp_path / "a.png", 1), write_png(tmp_path / "b.png", 2)])
    wait(session)
    first = run(session)
    assert isinstance(first, RunRecord) and session.shown is first and not session.busy
    np.testing.assert_allclose(first.result.rgb, 1 - session.images.current.image.rgb, atol=1e-5)
    session.select_image(1)
    second = run(session)
    session.select_image(0)
    assert session.shown is first
    assert session.run() is None and seen.args("run_finished")[-1] == (first,)  # from the cache
    session.set_params({**session.params, "strength": 0.5})
    assert session.shown is first and session.is_stale(first)  # kept, marked as stale
    changed = run(session)
    assert changed is not first and RECEIVED["echo"]["strength"] == 0.5
    session.set_params({**session.params, "strength": 1.0})
    assert session.shown is first and not session.is_stale(first)
    assert [r.params["strength"] for r in session.history()] == [1.0, 0.5] and second is not first


def test_a_run_may_start_as_soon_as_the_previous_result_is_announced(make_session):
    session, _ = make_session()
    session.add_image(OpenImage("pasted", make_image(8, 6)))
    results: list[Any] = []

    def again(outcome: Any) -> None:
        results.append(outcome)
        if len(results) == 1:
            session.select_translator("slow")
            session.set_params({"steps": 40})  # about 1 s
            results.append(session.run())

    session.events.run_finished.connect(again)
    session.run()
    for _ in range(100):  # until the first run's result is in, and the second run started
        if len(results) >= 2:
            break
        session.runner.process(0.1)
    session.runner.process(0.2)  # the first run's end, too: the second run is still known
    assert results[1] is not None and session.busy and session.run_task is results[1]
    wait(session)
    assert isinstance(results[2], RunRecord) and results[2].translator == "slow" and not session.busy


def test_cancel_stops_a_slow_translator(make_session):
    session, seen = make_session()
    session.select_translator("slow")
    session.set_params({"steps": 1000})
    session.add_image(OpenImage("pasted", make_image(8, 6)))
    started = []
    session.events.progress.connect(lambda f, m: started.append(f))
    session.run()
    while not any(f > 0 for f in started):
        session.runner.process(0.05)
    session.cancel()
    wait(session)
    assert isinstance(seen.args("run_finished")[-1][0], Cancelled)
    assert "Cancelled" in seen.texts("info") and session.shown is None and not session.busy
    assert seen.args("busy_changed") == [(True,), (False,)]


def test_batch_is_over_for_listeners_of_its_report(make_session, tmp_path):
    session, _ = make_session()
    session.add_image(OpenImage("pasted", make_image(8, 6)))
    states = []
    session.events.batch_finished.connect(lambda report: states.append(session.busy))
    session.start_batch(session.open_batch_items(), tmp_path / "out")
    wait(session)
    assert states == [False]


@pytest.mark.parametrize("steps", [401, 400])
def test_rerun_cancels_a_running_job_of_other_settings_and_runs_again(make_session, steps):
    """A live edit (steps 400 -> 401) cancels the running job and runs again; a rerun of the
    settings already running (400) lets that job finish."""
    session, seen = make_session()
    session.select_translator("slow")
    session.set_params({"steps": 400})
    session.add_image(OpenImage("pasted", make_image(8, 6)))
    session.run()
    session.set_params({"steps": steps})
    session.rerun()
    wait(session)
    outcomes = [args[0] for args in seen.args("run_finished")]
    assert isinstance(outcomes[-1], RunRecord) and outcomes[-1].params["steps"] == steps
    if steps == 400:
        assert len(outcomes) == 1
    else:
        assert isinstance(outcomes[0], Cancelled)
    assert "Cancelled" not in seen.texts("info")


def test_generator_uses_its_own_slot_and_lists_only_set_parameters(make_session, tmp_path):
    session, seen = make_session()
    session.open_paths([write_png(tmp_path / "photo.png")])
    wait(session)
    photo = session.images.current
    session.select_translator("dream")
    assert session.generates and session.target() is None and session.shown is None
    record = run(session)
    assert session.target() is session.generated and session.generated.history == [record]
    assert session.images.current is photo and session.shown is record
    assert record.result.rgb.shape == (24, 32, 3) and seen.args("image_changed")[-1] == (session.generated,)
    session.set_params({"seed": 2})
    assert not np.allclose(run(session).result.rgb, record.result.rgb)
    rec = RunRecord("dream", None, {"seed": 2, "latent": "", "hints": (), "note": "hi"}, 0.5, record.result)
    assert rec.label() == "dream seed=2, note=hi (0.5 s)"  # empty values are left out
    session.select_translator("echo")
    session.add_image(OpenImage("pasted", make_image(8, 6)))
    session.set_params({**session.params, "mode": "hard"})
    assert run(session).label().startswith("echo mode=hard, seed=7 (")  # seeds and changed values


def test_translator_error_and_a_crashing_plugin_disabled_after_strikes(make_session):
    session, seen = make_session(FakePlugin(), CrashPlugin())
    session.add_image(OpenImage("pasted", make_image(8, 6)))
    session.select_translator("refuse")
    assert "too dark" in str(run(session)) and any("too dark" in t for t in seen.texts("error"))
    session.select_translator("crash")
    for _ in range(session.registry.STRIKES - 1):
        assert isinstance(run(session), PluginError) and session.spec.name == "crash"
    assert isinstance(run(session), PluginError)
    assert seen.args("plugins_changed") and "crash" not in session.registry.translators
    assert any("times in a row" in t for t in seen.texts("error")) and session.spec.name == "echo"
    assert isinstance(run(session), RunRecord)


def test_batch_over_open_images_and_a_bad_file(make_session, tmp_path):
    session, seen = make_session()
    session.open_paths([write_png(tmp_path / "a.png", 1)])
    wait(session)
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    session.start_batch(session.open_batch_items() + [BatchItem(label="bad.png", path=bad)], tmp_path / "out")
    assert session.start_batch(session.open_batch_items(), tmp_path / "out") is None  # one job at a time
    wait(session)
    (report,) = seen.args("batch_finished")
    assert [p.name for p in report[0].written] == ["a_echo.png"] and report[0].errors[0][0] == "bad.png"
    assert not session.busy


def test_restored_settings_are_announced_once(make_session, tmp_path):
    settings = MemorySettings()
    settings.setValue("translator", "echo")
    settings.setValue("params/echo", json.dumps({"mode": "hard", "seed": 9, "size": "bad"}))
    session, seen = make_session(settings=settings)
    assert session.params["mode"] == "hard" and session.params["size"] == 3  # a bad value: the default
    (info,) = seen.texts("info")
    assert info == "Restored from last session for Echo: Mode = hard"  # seeds are not worth a word
    session.select_translator("slow")
    session.select_translator("echo")
    assert len(seen.texts("info")) == 1


def test_saved_settings_persist_across_sessions(make_session):
    settings = MemorySettings()
    first, _ = make_session(settings=settings)
    first.select_translator("slow")
    first.set_params({"steps": 5})
    second, _ = make_session(settings=settings)
    assert second.spec.name == "slow" and second.params == {"steps": 5}


def test_hints_stay_with_the_session_not_the_next_one(make_session):
    """Colour hints sit on one picture: the next session's photo starts without them."""
    settings = MemorySettings()
    first, _ = make_session(settings=settings)
    first.select_translator("hinted")
    hints = (ColorPoint(0.5, 0.5, (255, 0, 0)),)
    first.set_params({**first.params, "hints": hints})
    assert first.params["hints"] == hints
    second, _ = make_session(settings=settings)
    assert second.spec.name == "hinted" and second.params["hints"] == ()


def test_hints_belong_to_their_image(make_session, tmp_path):
    """Hints placed on one picture stay with it: another image starts without them, and
    coming back (also through another translator) shows them again."""
    session, seen = make_session()
    session.open_paths([write_png(tmp_path / "a.png", 1), write_png(tmp_path / "b.png", 2)])
    wait(session)
    a, b = list(session.images)
    session.select_image(a)
    session.select_translator("hinted")
    hints = (ColorPoint(0.5, 0.5, (255, 0, 0)),)
    session.set_params({**session.params, "hints": hints})
    session.select_image(b)
    assert session.params["hints"] == () and seen.args("params_changed")[-1][0]["hints"] == ()
    session.select_image(a)
    assert session.params["hints"] == hints and seen.args("params_changed")[-1][0]["hints"] == hints
    session.select_translator("echo")
    session.select_image(b)
    session.select_translator("hinted")
    assert session.params["hints"] == ()
    session.select_image(a)
    assert session.params["hints"] == hints


def test_imported_model_is_selected_with_its_translator(make_session, tmp_path):
    import torch
    from gui.gui_fakes import ClaimingPlugin
    from safetensors.torch import save_file

    session, seen = make_session(ClaimingPlugin())
    session.select_translator("slow")
    weights = tmp_path / "my-echo.safetensors"
    save_file({"echo.marker": torch.zeros(1)}, str(weights))
    session.open_paths([weights])
    wait(session)
    assert session.spec.name == "echo" and session.model == "my-echo" and seen.args("models_changed")
    assert any("Imported my-echo.safetensors" in t for t in seen.texts("info"))
    assert not any("Restored" in t for t in seen.texts("info"))


def test_the_session_makes_interactive_engines(plugin_registry, tmp_path):
    registry = plugin_registry(FakePlugin())
    session = Session(registry=registry, store=ModelStore(registry, home=tmp_path / "home"))
    engine = session.engine("cpu", "fp32")
    assert engine.interactive and session.engine("cpu", "fp32") is engine


def test_drawing_translator_comes_from_the_spec_flag(make_session):
    session, _ = make_session(FakePlugin(), DrawingPlugin())
    assert session.drawing_translator() == "lines"
    alone, _ = make_session()
    assert alone.drawing_translator() is None


def test_save_never_replaces_an_input(make_session, tmp_path):
    session, _ = make_session()
    source = write_png(tmp_path / "in.png")
    session.open_paths([source])
    wait(session)
    run(session)
    assert session.save_result(tmp_path / "out.png") == tmp_path / "out.png"
    before = source.read_bytes()
    assert session.save_result(source, overwrite=True) is None and source.read_bytes() == before
    assert [p.name for p in session.save_all(tmp_path / "all")] == ["in_echo.png"]
    assert session.suggest_save_path(tmp_path).name == "in_echo.png"


def test_closing_an_image_forgets_its_results(make_session, tmp_path):
    session, seen = make_session()
    session.add_image(OpenImage("one", make_image(8, 6)))
    run(session)
    assert len(session.cache) == 1
    session.close_image()
    assert len(session.cache) == 0 and session.images.current is None and session.shown is None
    assert seen.args("image_removed")[0][0] == 0


def test_a_restored_model_other_than_the_default_is_announced(plugin_registry, tmp_path):
    from translator.store import ModelCard

    registry = plugin_registry(FakePlugin())
    store = ModelStore(registry, home=tmp_path / "home")
    for name in ("first", "second"):
        store.save(ModelCard(name=name, plugin="fake", translator="echo", config={}, title=name,
                             source={"kind": "trained"}), {})
    default = store.default("echo").name
    other = "first" if default == "second" else "second"
    settings = MemorySettings()
    settings.setValue("model/echo", other)
    session = Session(registry=registry, store=store, engine=Engine(device="cpu", precision="fp32"),
                      settings=settings)
    seen = Recorder(session)
    session.start()
    assert session.model == other
    assert seen.texts("info") == [f"Restored from last session for Echo: model {other}"]
