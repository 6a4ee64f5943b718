"""The app's session, without Qt: open images, the chosen translator, model, parameters and
device, runs and batches, the result cache, history, the generated slot, engines and imports.

A view (the Qt main window, or a script) calls its methods and connects to `session.events`;
slow work goes to the `Runner` it was given. Every callback of that runner must arrive in one
thread (the GUI thread for the window), which is the only thread that changes the session.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from translator.batch import BatchItem, BatchReport, ItemResult, run_batch
from translator.errors import Cancelled, ImageError, ParameterError, PluginError, TranslatorError
from translator.image import Image
from translator.params import ColorPoints, Seed, jsonable, resolve_params
from translator.session.events import Events
from translator.session.runner import Runner, Task, ThreadRunner
from translator.session.state import ImageList, ModelCache, OpenImage, ResultCache, RunRecord
from translator.spec import TranslatorSpec

log = logging.getLogger(__name__)

RESTORED = "Restored from last session for"
"""How the info message about a translator's restored non-default settings begins."""

WEIGHT_SUFFIXES = frozenset({".pth", ".pt", ".safetensors", ".ckpt"})

EVENTS = (
    "ready",             # ()  plugins, store and devices are loaded
    "error",             # (what: str, why: BaseException | str[, details: str])
    "info",              # (text: str)  worth a message the user can read at leisure
    "status",            # (text: str, msec: int)  a passing status line (0: until replaced)
    "progress",          # (fraction: float, message: str) of the running job
    "busy_changed",      # (busy: bool)
    "image_added",       # (item: OpenImage)
    "image_removed",     # (index: int, item: OpenImage)
    "image_changed",     # (item: OpenImage)  new pixels or a new thumbnail
    "current_changed",   # (item: OpenImage | None)  `shown` is already its result to show
    "opened",            # (added: list[OpenImage])  after each open, also when nothing was new
    "plugins_changed",   # ()  a plugin was disabled: the list of translators changed
    "translator_changed",  # (spec: TranslatorSpec | None)  params and model are already set
    "params_changed",    # (params: dict)  values placed on a picture (hints) followed the current image
    "models_changed",    # ()  the store's models changed (import, download, removal)
    "shown_changed",     # (record: RunRecord | None)  the result to show
    "history_changed",   # ()
    "preview",           # (item: OpenImage, view)  a quick preview of a big run's result; emitted
                         # from the worker thread (a view marshals it to its own thread)
    "run_finished",      # (outcome: RunRecord | BaseException)
    "batch_finished",    # (outcome: BatchReport | BaseException)
)


def worth_naming(spec: TranslatorSpec, params: dict[str, Any]) -> tuple[str, ...]:
    """The parameters a history entry names: seeds, and every value other than its default."""
    return tuple(p.name for p in spec.params
                 if isinstance(p, Seed) or params.get(p.name, p.default_value) != p.default_value)


class MemorySettings:
    """Preferences kept in a dict, with the `value`/`setValue` interface of QSettings."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def value(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def setValue(self, key: str, value: Any) -> None:
        self.values[key] = value


class Session:
    """What is open and what has run, and the operations on it.

    registry, store, engine: injected core objects; when None, `start()` loads the registry
    and devices in the background, the store is made over the registry, and one `Engine` per
    (device, precision) is made when first needed.
    settings: preferences (`value(key, default)`, `setValue(key, value)`, e.g. a QSettings).
    runner: where slow work runs (default `ThreadRunner`).
    image_view(image) -> (display form, thumbnail), result_view(image) -> display form: made in
    the worker for a view (QImages for the window); None: no display forms.
    """

    def __init__(self, *, registry: Any = None, store: Any = None, engine: Any = None,
                 settings: Any = None, runner: Runner | None = None,
                 image_view: Callable[[Image], tuple[Any, Any]] | None = None,
                 result_view: Callable[[Image], Any] | None = None) -> None:
        self.events = Events(*EVENTS)
        self.settings = settings if settings is not None else MemorySettings()
        self.runner: Runner = runner if runner is not None else ThreadRunner()
        self.image_view = image_view
        self.result_view = result_view
        self.registry = registry
        self.store = store
        self.injected_engine = engine
        self._engines: dict[tuple[str, str], Any] = {}
        self._engine_lock = threading.Lock()
        self.images = ImageList()
        self.cache = ResultCache()
        self.models = ModelCache()
        self.devices: list[Any] = []
        self.device = "cpu"
        self.precision = "auto"
        self.spec: TranslatorSpec | None = None
        self.model: str | None = None
        self.params: dict[str, Any] = {}
        self.generated: OpenImage | None = None
        self.shown: RunRecord | None = None
        self.run_task: Task | None = None
        self.batch_task: Task | None = None
        self.is_ready = False
        self._rerun_pending = False
        self._run_key: Any = None
        self._restored_told: set[str] = set()

    # ==== start-up ===============================================================================

    def start(self) -> None:
        """Load plugins, the store and the device list in the background; `ready` when done.
        With an injected registry this happens at once."""
        if self.is_ready:
            return
        if self.registry is not None:
            self._loaded((self.registry, None))
            return
        self.events.status.emit("Loading plugins and PyTorch...", 0)

        def load(progress: Any, cancel: threading.Event) -> tuple[Any, Any]:
            from translator.device import list_devices
            from translator.plugins import load_registry

            return load_registry(), list_devices()

        self.runner.start(load, name="load plugins", on_done=self._loaded,
                          on_failed=lambda exc: self.events.error.emit("Could not load plugins", exc))

    def _loaded(self, loaded: tuple[Any, Any]) -> None:
        from translator.device import PRECISIONS, DeviceInfo

        registry, devices = loaded
        self.registry = registry
        if self.store is None:
            from translator.store import ModelStore

            self.store = ModelStore(registry)
        if self.injected_engine is not None:
            name = str(self.injected_engine.device)
            self.devices = [DeviceInfo(name, name.upper() if name == "cpu" else name)]
            self.device, self.precision = name, self.injected_engine.precision
        else:
            if devices is None:
                from translator.device import list_devices

                devices = list_devices()
            self.devices = list(devices)
            saved = self.settings.value("device", None)
            names = [d.name for d in self.devices]
            self.device = saved if saved in names else (names[0] if names else "cpu")
            precision = self.settings.value("precision", "auto")
            self.precision = precision if precision in PRECISIONS else "auto"
        self.is_ready = True
        saved = self.settings.value("translator", None)
        self.events.plugins_changed.emit()
        self.select_translator(saved if saved in registry.translators else self.first_translator())
        broken = [p.name for p in registry.plugins.values() if p.broken]
        status = f"{len(registry.translators)} translator(s) ready"
        if broken:
            status += f"; broken plugin(s): {', '.join(broken)} (hover them for the error)"
        self.events.status.emit(status, 10000)
        self.events.ready.emit()

    def first_translator(self) -> str | None:
        """The first working translator, in plugin order (the picker's first entry)."""
        if self.registry is None:
            return None
        for info in sorted(self.registry.plugins.values(), key=lambda p: p.name):
            for name in info.translators:
                if name in self.registry.translators:
                    return name
        return None

    # ==== translator, model, parameters, device ==================================================

    def select_translator(self, name: str | None) -> None:
        """Make `name` current with its saved parameters and model; unknown names select none.
        A non-default setting restored from the last session is announced once (`info`)."""
        spec = self.registry.translators.get(name) if (self.registry is not None and name) else None
        self.spec = spec
        self.params = self._saved_params(spec) if spec is not None else {}
        self.model = None
        if spec is not None:
            self.settings.setValue("translator", spec.name)
            self.model = self._saved_model(spec)
            self.params.update(self._placed_on(self.images.current))
        self._tell_restored()
        self.events.translator_changed.emit(spec)
        self._show_best()
        self.events.history_changed.emit()

    def _saved_params(self, spec: TranslatorSpec) -> dict[str, Any]:
        values = resolve_params(spec.params)
        raw = self.settings.value(f"params/{spec.name}", None)
        try:
            saved = json.loads(str(raw)) if raw else {}
        except ValueError:
            saved = {}
        for param in spec.params:
            if isinstance(saved, dict) and param.name in saved and not _of_one_image(param):
                try:
                    values[param.name] = param.validate(saved[param.name])
                except (TranslatorError, TypeError, ValueError):
                    pass  # a value an older version saved: the default stands
        return values

    def _saved_model(self, spec: TranslatorSpec) -> str | None:
        entries, default = self.model_entries()
        saved = self.settings.value(f"model/{spec.name}", None)
        names = [e.name for e in entries]
        if saved and saved in names:
            return str(saved)
        return default if default in names else (names[0] if names else None)

    def _tell_restored(self) -> None:
        spec = self.spec
        if spec is None or spec.name in self._restored_told:
            return
        self._restored_told.add(spec.name)
        changed = [f"{p.label} = {self.params[p.name]}" for p in spec.params
                   if not isinstance(p, (Seed, ColorPoints)) and self.params[p.name] != p.default_value]
        _, default = self.model_entries()
        if self.model is not None and self.model != default:
            changed.append(f"model {self.model}")
        if changed:
            self.events.info.emit(f"{RESTORED} {spec.title or spec.name}: "
                                  + ", ".join(changed))

    def drawing_translator(self) -> str | None:
        """The translator for drawings on the sketch pad: the current one when it takes
        drawings, else the first that does (`TranslatorSpec.takes_drawing`), else None."""
        if self.spec is not None and self.spec.takes_drawing:
            return self.spec.name
        translators = self.registry.translators if self.registry is not None else {}
        return next((name for name, spec in translators.items() if spec.takes_drawing), None)

    def model_entries(self) -> tuple[list[Any], str | None]:
        """The current translator's models and the name of its default model."""
        if self.spec is None or self.store is None:
            return [], None
        try:
            entries = self.store.list(self.spec.name)
            default = self.store.default(self.spec.name)
        except TranslatorError as exc:
            self.events.error.emit("Could not list models", exc)
            return [], None
        return entries, (default.name if default is not None else None)

    def published_models(self) -> int:
        """How many supported catalog models exist for the current translator's plugin."""
        if self.spec is None or self.registry is None:
            return 0
        from translator.catalog import load_catalog

        owner = self.registry.owner(self.spec.name)
        return sum(1 for e in load_catalog(self.registry).for_plugin(owner) if e.supported)

    def select_model(self, name: str | None) -> None:
        """Use model `name` (None: the translator's default) from now on."""
        self.model = name
        if self.spec is not None:
            self.settings.setValue(f"model/{self.spec.name}", name or "")
        self._show_best()

    def set_params(self, values: dict[str, Any]) -> None:
        """New parameter values (validated against the spec; raises `ParameterError`). A cached
        result of them is shown at once; else the result shown stays, marked as stale."""
        if self.spec is None:
            return
        self.params = resolve_params(self.spec.params, values)
        item = self.images.current
        if item is not None:
            item.placed[self.spec.name] = {p.name: self.params[p.name] for p in self.spec.params
                                           if _of_one_image(p)}
        kept = {p.name: self.params[p.name] for p in self.spec.params if not _of_one_image(p)}
        self.settings.setValue(f"params/{self.spec.name}", json.dumps(jsonable(kept)))
        self._show_best()

    def set_device(self, device: str, precision: str) -> None:
        self.device, self.precision = device, precision
        self.settings.setValue("device", device)
        self.settings.setValue("precision", precision)

    # ==== images =================================================================================

    def open_paths(self, paths: Iterable[Path | str]) -> Task | None:
        """Open image files and folders (recursively) in the background; weight files are
        imported as models instead. Unreadable files are reported in one `error`. Returns the
        task reading the images (None when there were none)."""
        paths = [Path(p) for p in paths]
        weights = [p for p in paths if p.is_file() and p.suffix.lower() in WEIGHT_SUFFIXES]
        for path in weights:
            self.import_model(path)
        paths = [p for p in paths if p not in weights]
        if not paths:
            return None
        self.events.status.emit(f"Opening {len(paths)} item(s)...", 0)
        image_view = self.image_view

        def read(progress: Any, cancel: threading.Event) -> tuple[list[Any], list[tuple[str, str]]]:
            from translator.imageio import find_images, read_image

            errors = [(str(p), "no such file or folder") for p in paths if not p.exists()]
            files = find_images(paths)
            if not files and not errors:
                errors.append((", ".join(str(p) for p in paths), "no images found"))
            loaded = []
            for index, path in enumerate(files):
                if cancel.is_set():
                    break
                progress(index / max(len(files), 1), path.name)
                try:
                    image = read_image(path)
                    view, thumb = image_view(image) if image_view is not None else (None, None)
                    loaded.append(OpenImage(name=path.name, image=image, path=path, view=view, thumb=thumb))
                except ImageError as exc:
                    errors.append((path.name, str(exc)))
                except Exception as exc:  # noqa: BLE001 - one bad file never stops the others
                    errors.append((path.name, f"{type(exc).__name__}: {exc}"))
            return loaded, errors

        return self.runner.start(read, name="open images", on_done=self._opened,
                                 on_failed=lambda exc: self.events.error.emit("Could not open images", exc))

    def _opened(self, result: tuple[list[OpenImage], list[tuple[str, str]]]) -> None:
        loaded, errors = result
        added = [item for item in loaded if self._add(item)]
        if errors:
            first = errors[0][1]
            more = f" (and {len(errors) - 1} more; hover for all)" if len(errors) > 1 else ""
            lines = "\n".join(f"{name}: {why}" for name, why in errors)
            self.events.error.emit(f"Could not open {len(errors)} file(s)", f"{first}{more}", lines)
        if added:
            self.select_image(added[0])
        self.events.status.emit(f"Opened {len(added)} image(s)", 5000)
        self.events.opened.emit(added)

    def _add(self, item: OpenImage) -> bool:
        kept, new = self.images.add(item)
        if new:
            self.events.image_added.emit(kept)
        return new

    def add_image(self, item: OpenImage) -> OpenImage:
        """Add an image made in memory (pasted, dropped, a sketch) and make it current; an
        image of an already open file selects that one instead."""
        kept, new = self.images.add(item)
        if new:
            self.events.image_added.emit(kept)
        self.select_image(kept)
        self.events.opened.emit([kept] if new else [])
        return kept

    def _placed_on(self, item: OpenImage | None) -> dict[str, Any]:
        """The current translator's parameters placed on `item` (colour hints): its own values,
        else the defaults; parameters of one picture never follow the user to another."""
        if self.spec is None:
            return {}
        own = item.placed.get(self.spec.name, {}) if item is not None else {}
        return {p.name: own.get(p.name, p.default_value) for p in self.spec.params if _of_one_image(p)}

    def next_name(self, label: str) -> str:
        """`label N`, N one more than the images named so far."""
        count = sum(1 for item in self.images if item.name.startswith(label)) + 1
        return f"{label} {count}"

    def select_image(self, item: OpenImage | int | None) -> None:
        """Make an open image (or index; None or -1: none) current and show its latest result."""
        index = item if isinstance(item, int) else (-1 if item is None else self.images.index_of(item))
        self.images.current_index = index
        placed = self._placed_on(self.images.current)
        if any(self.params.get(name) != value for name, value in placed.items()):
            self.params.update(placed)
            self.events.params_changed.emit(dict(self.params))
        self.shown = self._best()
        self.events.current_changed.emit(self.images.current)
        self.events.history_changed.emit()

    def close_image(self, index: int | None = None) -> None:
        """Close the image at `index` (default the current one) and forget its results."""
        index = self.images.current_index if index is None else index
        if not 0 <= index < len(self.images):
            return
        item = self.images.remove(index)
        self.cache.drop_image(item)
        if item is self.generated:
            self.generated = None
        self.events.image_removed.emit(index, item)
        self.select_image(self.images.current_index)

    def replace_pixels(self, item: OpenImage, image: Image, view: Any = None, thumb: Any = None) -> None:
        """New pixels for an open image (a sketch that changed)."""
        item.replace_pixels(image)
        item.view, item.thumb = view, thumb
        self.events.image_changed.emit(item)
        if item is self.images.current:
            self._show_best()

    def target(self) -> OpenImage | None:
        """The image runs apply to: the current image, or the generated slot for generators."""
        if self.spec is not None and not self.spec.task.needs_input:
            return self.generated
        return self.images.current

    @property
    def generates(self) -> bool:
        """The current translator makes images from nothing (no input image)."""
        return self.spec is not None and not self.spec.task.needs_input

    def history(self) -> list[RunRecord]:
        """Runs on the target, oldest first."""
        target = self.target() if self.spec is not None else self.images.current
        return list(target.history) if target is not None else []

    # ==== results shown ==========================================================================

    def current_key(self) -> Any:
        """The cache key of running the current settings on the target (None: cannot run)."""
        if self.spec is None:
            return None
        target = self.target() if self.spec.task.needs_input else None
        if self.spec.task.needs_input and (target is None or target.image is None):
            return None
        return self.cache.key(target, self.spec.name, self.model, self.params)

    def is_stale(self, record: RunRecord | None) -> bool:
        """`record` is not what the current settings would produce."""
        key = self.current_key()
        return record is not None and (key is None or self.cache.get(key) is not record)

    def show(self, record: RunRecord | None) -> None:
        """Show a past result (a history entry)."""
        self.shown = record
        self.events.shown_changed.emit(record)

    def _best(self) -> RunRecord | None:
        """The cached result of the current settings, else the target's shown result (kept
        when a parameter changed), else the target's latest run."""
        target = self.target()
        key = self.current_key()
        record = self.cache.get(key) if key is not None else None
        if record is None and target is not None:
            if self.shown is not None and self.shown in target.history:
                record = self.shown
            elif target.history:
                record = target.history[-1]
        return record

    def _show_best(self) -> None:
        self.show(self._best())

    # ==== running ================================================================================

    @property
    def busy(self) -> bool:
        return self.run_task is not None or self.batch_task is not None

    def run(self) -> Task | None:
        """Run the current translator on the target in the background (a cached result is
        shown at once instead). Returns the task, None when nothing started."""
        spec = self.spec
        if spec is None:
            self.events.error.emit("Cannot run", "choose a translator first" if self.is_ready else
                                   "plugins are still loading")
            return None
        if self.busy:
            self.events.status.emit("A job is running (Esc cancels it)", 5000)
            return None
        item = self.images.current
        if spec.task.needs_input and (item is None or item.image is None):
            self.events.error.emit("Cannot run", f"{spec.title or spec.name} needs an image: open one first")
            return None
        try:
            params = resolve_params(spec.params, self.params)
        except ParameterError as exc:
            self.events.error.emit("Bad parameter", exc)
            return None
        if not spec.task.needs_input:
            if self.generated is None:
                self.generated = OpenImage(name="Generated", image=None)
                self._add(self.generated)
            item = self.generated
        model_name = self.model
        key = self.cache.key(item if spec.task.needs_input else None, spec.name, model_name, params)
        hit = self.cache.get(key)
        if hit is not None:
            self.show(hit)
            self.events.status.emit("Shown from the cache", 3000)
            self.events.run_finished.emit(hit)
            return None
        image = item.image if spec.task.needs_input else None
        device, precision, result_view = self.device, self.precision, self.result_view
        labelled = worth_naming(spec, params)

        def work(progress: Any, cancel: threading.Event) -> RunRecord:
            start = time.perf_counter()
            progress(0.0, "loading the model")
            loaded_name, model = self.models.get(spec.name, model_name,
                                                 lambda: self._open_model(spec.name, model_name, progress))
            engine = self.engine(device, precision)
            if cancel.is_set():
                raise Cancelled("cancelled")
            warnings: list[str] = []
            preview = None
            if result_view is not None:
                def preview(quick: Image) -> None:
                    self.events.preview.emit(item, result_view(quick))
            result = engine.run(spec, model, image, params, progress=progress, cancel=cancel, warn=warnings.append,
                                preview=preview)
            record = RunRecord(translator=spec.name, model=loaded_name, params=dict(params),
                               seconds=time.perf_counter() - start, result=result, warnings=tuple(warnings),
                               labelled=labelled)
            if result_view is not None:
                record.view = result_view(result)
            return record

        self.events.status.emit(f"Running {spec.name}...", 0)
        self._run_key = key
        self.run_task = self.runner.start(
            work, name=f"run {spec.name}", on_progress=self.events.progress.emit,
            on_done=lambda record, it=item, k=key: self._run_done(it, k, record),
            on_failed=lambda exc, s=spec: self._run_failed(s, exc),
            on_finished=self._run_ended)
        self.events.busy_changed.emit(True)
        return self.run_task

    def rerun(self) -> None:
        """Run again now, or as soon as the running job (cancelled here) has stopped: for live
        previews that follow the user's edits. A running job of the current settings goes on."""
        if self.run_task is not None:
            if self._run_key == self.current_key():
                return
            self._rerun_pending = True
            self.run_task.cancel()
            return
        self.run()

    def _open_model(self, translator: str, model: str | None,
                    progress: Callable[[float, str], None] | None = None) -> tuple[str | None, Any]:
        """(model name, network); a plugin whose `build` raises fails the run as `PluginError`,
        which counts towards `Registry.STRIKES` like a failing `translate`."""
        try:
            entry, network = self.store.open(translator, model, progress=progress)
        except TranslatorError:
            raise
        except Exception as exc:  # noqa: BLE001 - the plugin's build, not ours
            raise PluginError(f"{translator}: cannot build its network ({type(exc).__name__}: {exc})") from exc
        return (entry.name if entry is not None else None), network

    def engine(self, device: str, precision: str) -> Any:
        """The engine for (device, precision), made once (the injected engine when given); an
        interactive one, so that a cancel acts within about a second on the CPU."""
        if self.injected_engine is not None:
            return self.injected_engine
        with self._engine_lock:
            key = (device, precision)
            if key not in self._engines:
                from translator.engine import Engine

                self._engines[key] = Engine(device=device, precision=precision, interactive=True)
            return self._engines[key]

    def _job_over(self, attr: str) -> None:
        """A job's outcome is in: forget its task (`attr`) before anyone hears of the outcome,
        so that a listener may start the next job at once."""
        setattr(self, attr, None)
        self.events.busy_changed.emit(self.busy)

    def _run_done(self, item: OpenImage, key: Any, record: RunRecord) -> None:
        self._job_over("run_task")
        if self.registry is not None:
            try:
                self.registry.plugin_succeeded(self.registry.owner(record.translator))
            except KeyError:
                pass
        item.history.append(record)
        self.cache.put(key, record)
        if item is self.generated:
            item.thumb = None
            item.view = record.view
            self.events.image_changed.emit(item)
        if item is self.target():
            self.show(record)
            self.events.history_changed.emit()
        took = f"{record.translator} took {record.seconds:.2f} s"
        self.events.status.emit(" ".join([took + (":" if record.warnings else ""), *record.warnings]),
                                20000 if record.warnings else 8000)
        self.events.run_finished.emit(record)

    def _run_failed(self, spec: TranslatorSpec, exc: BaseException) -> None:
        self._job_over("run_task")
        if isinstance(exc, Cancelled):
            if not self._rerun_pending:
                self.events.info.emit("Cancelled")
                self.events.status.emit("Cancelled", 3000)
        elif isinstance(exc, PluginError) and self.registry is not None:
            try:  # the same rule as a batch: broken after `Registry.STRIKES` failures in a row
                disabled = self.registry.plugin_failed(self.registry.owner(spec.name), exc.__cause__ or exc)
            except KeyError:
                disabled = False
            if disabled:
                self.events.error.emit(f"{spec.name} failed {self.registry.STRIKES} times in a row and its "
                                       f"plugin was disabled", exc)
                self.events.plugins_changed.emit()
                self.select_translator(self.first_translator())
            else:
                self.events.error.emit(f"{spec.name} failed", exc)
        else:
            self.events.error.emit(f"{spec.name} failed", exc)
        self.events.run_finished.emit(exc)

    def _run_ended(self) -> None:
        if self._rerun_pending:
            self._rerun_pending = False
            self.run()

    def cancel(self) -> None:
        """Stop the running translator or batch (at its next check)."""
        for task in (self.run_task, self.batch_task):
            if task is not None:
                task.cancel()
        if self.busy:
            self.events.status.emit("Cancelling...", 0)

    # ==== batch ==================================================================================

    def open_batch_items(self) -> list[BatchItem]:
        """The open images (with pixels) as batch inputs."""
        return [BatchItem(label=item.name, path=item.path, image=item.image)
                for item in self.images if item.image is not None]

    def start_batch(self, items: Sequence[BatchItem], out_dir: Path, fmt: str = "png") -> Task | None:
        """Run the current translator over `items` into `out_dir` in the background; the report
        (written files and per-file errors) arrives by `batch_finished`."""
        spec = self.spec
        if spec is None or self.busy:
            self.events.error.emit("Cannot start the batch", "choose a translator first" if spec is None
                                   else "a job is running")
            return None
        if not items:
            self.events.error.emit("Cannot start the batch", "no images to process")
            return None
        params, model_name, device, precision = dict(self.params), self.model, self.device, self.precision
        try:
            resolved = resolve_params(spec.params, params)
        except ParameterError as exc:
            self.events.error.emit("Bad parameter", exc)
            return None
        # Results already cached for these images, translator, model and params (looked up here,
        # in the caller's thread) are written without running again.
        hits = {id(open_item.image): record.result for open_item in self.images if open_item.image is not None
                and (record := self.cache.get(self.cache.key(open_item, spec.name, model_name, resolved)))}

        def work(progress: Any, cancel: threading.Event) -> BatchReport:
            _, model = self.models.get(spec.name, model_name,
                                       lambda: self._open_model(spec.name, model_name, progress))
            engine = self.engine(device, precision)

            def run_one(image: Any, report: Any, warn: Any) -> Any:
                return engine.run(spec, model, image, params, progress=report, cancel=cancel, warn=warn)

            return run_batch(items, run_one, out_dir, spec.name, fmt, progress=progress, cancel=cancel,
                             cached=lambda item: hits.get(id(item.image)) if item.image is not None else None,
                             on_item=on_item)

        outcomes: list[PluginError | None] = []  # per input in order: None (worked) or the plugin's failure

        def on_item(result: ItemResult) -> None:  # the engine reports a plugin's failure as PluginError
            if result.error is None or isinstance(result.error, PluginError):
                outcomes.append(result.error)

        self.settings.setValue("last_batch_dir", str(out_dir))
        self.events.status.emit(f"Batch of {len(items)} image(s)...", 0)
        self.batch_task = self.runner.start(
            work, name="batch", on_progress=self.events.progress.emit,
            on_done=lambda report: (self._count_plugin_outcomes(spec, outcomes), self._batch_done(report)),
            on_failed=self._batch_failed)
        self.events.busy_changed.emit(True)
        return self.batch_task

    def _count_plugin_outcomes(self, spec: TranslatorSpec, outcomes: Sequence[PluginError | None]) -> None:
        """Count a batch's results against its plugin, in order, as single runs are counted:
        broken after `Registry.STRIKES` failures in a row (then said once)."""
        if self.registry is None or spec.name not in self.registry.translators:
            return
        owner = self.registry.owner(spec.name)
        for exc in outcomes:
            if exc is None:
                self.registry.plugin_succeeded(owner)
            elif self.registry.plugin_failed(owner, exc.__cause__ or exc):
                self.events.error.emit(f"{spec.name} failed {self.registry.STRIKES} times in a row and its "
                                       f"plugin was disabled", exc)
                self.events.plugins_changed.emit()
                self.select_translator(self.first_translator())
                return

    def _batch_done(self, report: BatchReport) -> None:
        self._job_over("batch_task")
        self.events.batch_finished.emit(report)

    def _batch_failed(self, exc: BaseException) -> None:
        self._job_over("batch_task")
        self.events.error.emit("Batch failed", exc)
        self.events.batch_finished.emit(exc)

    # ==== models =================================================================================

    def import_model(self, path: Path, plugin: str | None = None) -> Task | None:
        """Import a weights file into the store in the background (any plugin that recognises
        it); the new model is then selected, with its translator."""
        if self.store is None:
            self.events.error.emit("Cannot import yet", "plugins are still loading")
            return None
        path = Path(path)
        self.events.status.emit(f"Importing {path.name}...", 0)
        store = self.store

        def work(progress: Any, cancel: threading.Event) -> Any:
            return store.import_file(path, plugin)

        def done(entry: Any) -> None:
            self.events.info.emit(f"Imported {path.name} as {entry.translator}/{entry.name}")
            self.model_installed(entry)

        return self.runner.start(work, name="import", on_done=done,
                                 on_failed=lambda exc: self.events.error.emit(f"Could not import {path.name}", exc))

    def model_installed(self, entry: Any) -> None:
        """A model was added to the store (import, download): select it and its translator."""
        if self.spec is None or entry.translator != self.spec.name:
            self._restored_told.add(entry.translator)
            self.select_translator(entry.translator)
        self.models_changed(select=entry.name)

    def models_changed(self, select: str | None = None) -> None:
        """The store changed: forget loaded networks, select `select` (else keep the model
        when it still exists) and tell (`models_changed`)."""
        self.models.clear()
        if select is not None:
            self.select_model(select)
        elif self.spec is not None and self.model not in [e.name for e in self.model_entries()[0]]:
            self.model = self._saved_model(self.spec)
        self.events.models_changed.emit()
        self._show_best()

    # ==== output =================================================================================

    def save_result(self, path: Path, *, overwrite: bool = False) -> Path | None:
        """Write the result shown to `path` (format by suffix, alpha kept where the format has
        it). Never replaces an open input file. Returns the path written, None on error."""
        from translator.imageio import write_image

        if self.shown is None:
            self.events.error.emit("Nothing to save", "run a translator first")
            return None
        try:
            written = write_image(path, self.shown.result, overwrite=overwrite, protected=self._inputs())
        except TranslatorError as exc:
            self.events.error.emit("Could not save", exc)
            return None
        self.settings.setValue("last_save_dir", str(Path(path).parent))
        self.events.status.emit(f"Saved {written}", 8000)
        return written

    def save_all(self, folder: Path, fmt: str = "png") -> list[Path]:
        """Save the latest result of every open image into `folder` as `<stem>_<translator>.<fmt>`."""
        from translator.imageio import suggest_output_path, write_image

        written, failed = [], []
        for item in self.images:
            if not item.history:
                continue
            record = item.history[-1]
            target = suggest_output_path(item.path or Path(item.name), folder, record.translator, fmt)
            try:
                written.append(write_image(target, record.result, protected=self._inputs()))
            except TranslatorError as exc:
                failed.append(f"{item.name}: {exc}")
        if failed:
            self.events.error.emit(f"{len(failed)} result(s) not saved", failed[0], "\n".join(failed))
        self.settings.setValue("last_save_dir", str(folder))
        self.events.status.emit(f"Saved {len(written)} result(s) to {folder}", 8000)
        return written

    def suggest_save_path(self, folder: Path) -> Path:
        """Where to save the result shown: `<folder>/<image stem>_<translator>.png`."""
        from translator.imageio import suggest_output_path

        item = self.target()
        stem = item.path if item is not None and item.path is not None else \
            Path(item.name if item is not None else "generated")
        return suggest_output_path(stem, folder, self.shown.translator if self.shown else "result", "png")

    def source_folder(self) -> Path | None:
        item = self.images.current
        return item.path.parent if item is not None and item.path is not None else None

    def _inputs(self) -> list[Path]:
        return [item.path for item in self.images if item.path is not None]

    def cancel_all(self) -> None:
        """Cancel every job (shutdown)."""
        self._rerun_pending = False
        self.cancel()


def _of_one_image(param: Any) -> bool:
    """A parameter placed on one picture (colour hints): not carried to the next session's."""
    return isinstance(param, ColorPoints)
