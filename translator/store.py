"""The model store: bundled models inside plugin packages, user models in the user data dir.

Every model is `NAME.safetensors` beside a JSON model card `NAME.json`. User models (trained or
imported) live in `<home>/models/<translator>/`, where home is `$TRANSLATOR_HOME` or the
platformdirs user data dir. Loading never executes code from a file: our own format is
safetensors; foreign `.pth`/`.pt` files are read with `torch.load(weights_only=True)` by
`translator.checkpoints` and converted on import.

Writing has one commit point. Weights and card are written to hidden temporary names
(`.NAME+XXXX.tmp`), the weights are moved into place, and the card's rename is the atomic step
that makes the model visible. A per-name lock file (`.NAME.lock`, via filelock) serialises
writers of one name across threads and processes. Anything an interrupted writer leaves (weights
without a card, a damaged card, truncated weights) is listed by `ModelStore.broken()` with the
reason and can be removed by name; stale temporary files are cleaned when a store is opened.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import shutil
import struct
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from translator.checkpoints import CheckpointClaim, CheckpointFile, ImportContext, read_safetensors
from translator.errors import CheckpointError, ModelNotFoundError, TranslatorError

if TYPE_CHECKING:
    from torch import Tensor, nn

    from translator.engine import ProgressFn
    from translator.plugins import Registry

HOME_ENV = "TRANSLATOR_HOME"
CARD_FORMAT = 1
_SAFE_NAME = re.compile(r"[^\w.-]+")
MAX_NAME_CHARS = 100
"""Longest model name; with the hidden temporary names it keeps every file name under 255 bytes."""
_MAX_NAME_BYTES = 200
LOCK_TIMEOUT_S = 300.0
"""How long a writer waits for another writer of the same name before giving up."""
STALE_PART_S = 24 * 3600.0
"""Unlocked partial downloads older than this are removed when a store opens."""
_TEMP_SEP = "+"
"""Separates the model name from the random part in hidden temporary names ('+' is never in a name)."""


def model_name(raw: object) -> str:
    """A file-safe model name: Unicode letters and digits, '.', '-', '_' (runs of anything else
    become '-'), NFC-normalised. Raises `TranslatorError` when nothing usable is left or the name
    is longer than `MAX_NAME_CHARS`."""
    text = unicodedata.normalize("NFC", str(raw))
    name = _SAFE_NAME.sub("-", text).strip("-.")
    if not name:
        raise TranslatorError(f"model name {text!r} has no letters or digits; choose another name")
    if len(name) > MAX_NAME_CHARS or len(name.encode("utf-8")) > _MAX_NAME_BYTES:
        raise TranslatorError(f"model name is too long ({len(name)} characters; at most {MAX_NAME_CHARS})")
    return name


def user_home() -> Path:
    """`$TRANSLATOR_HOME`, else the platform's user data dir for Translator."""
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("translator", appauthor=False))


@dataclass
class ModelCard:
    """What we know about a model; stored as JSON beside its weights.

    source: {"kind": "bundled" | "trained" | "imported" | "downloaded", plus "file" (imported
        from), "run" (training run folder), "url", "sha256", "licence", "catalog" (downloaded) ...}.
    training: data description (folders and image counts), steps, time_s, device, losses.
    metrics: held-out measurements (PSNR, SSIM, ...), by name.
    sha256: of the safetensors file.
    """

    name: str
    plugin: str
    translator: str
    config: dict[str, Any]
    source: dict[str, Any] = field(default_factory=dict)
    title: str = ""
    description: str = ""
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    sha256: str = ""
    format: int = CARD_FORMAT

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelCard:
        """Raises `CheckpointError` for anything but a JSON object with fields of the right types."""
        if not isinstance(data, Mapping):
            raise CheckpointError(f"model card is a JSON {type(data).__name__}, not an object")
        known = {f for f in cls.__dataclass_fields__}
        missing = {"name", "translator", "config"} - set(data)
        if missing:
            raise CheckpointError(f"model card lacks {', '.join(sorted(missing))}")
        values = {k: v for k, v in data.items() if k in known}
        values.setdefault("plugin", data["translator"])
        for key, kind in _CARD_TYPES.items():
            if key in values and not isinstance(values[key], kind):
                raise CheckpointError(f"model card field {key!r} is a {type(values[key]).__name__}, "
                                      f"not {'an object' if kind is dict else 'text'}")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def kind(self) -> str:
        return str(self.source.get("kind", "imported"))

    def summary(self) -> str:
        """Several lines of text for tooltips and `models list`."""
        lines = [self.title or self.name, f"{self.translator} model ({self.kind})"]
        if self.description:
            lines.append(self.description)
        if self.source.get("file"):
            lines.append(f"imported from {self.source['file']}")
        if self.source.get("url"):
            lines.append(f"downloaded from {self.source['url']}")
        if self.source.get("licence"):
            lines.append(f"licence: {self.source['licence']}")
        training = self.training
        if training:
            parts = [f"data: {_describe_data(training['data'])}"] if training.get("data") else []
            parts += self.training_facts()
            if parts:
                lines.append("trained: " + ", ".join(parts))
        if self.metrics:
            lines.append("metrics: " + ", ".join(f"{k} {_fmt(v)}" for k, v in self.metrics.items()))
        if self.created:
            lines.append(f"created {self.created}")
        return "\n".join(lines)

    def training_facts(self) -> list[str]:
        """How the model was trained, in short phrases: "920 steps", "44 min", "on CPU",
        "batches of 4", "128 px crops" (those the card records)."""
        from translator.engine import format_duration

        training, facts = self.training, []
        if training.get("steps") is not None:
            facts.append(f"{training['steps']} steps")
        if training.get("time_s") is not None:
            facts.append(format_duration(float(training["time_s"])))
        if training.get("device"):
            facts.append(f"on {training['device']}")
        if training.get("batch_size") is not None:
            facts.append(f"batches of {training['batch_size']}")
        if training.get("size") is not None:
            facts.append(f"{training['size']} px crops")
        return facts


_CARD_TYPES: dict[str, type] = {
    "name": str, "plugin": str, "translator": str, "config": dict, "source": dict, "title": str,
    "description": str, "training": dict, "metrics": dict, "created": str, "sha256": str}


@dataclass(frozen=True)
class BrokenModel:
    """Files in the store that do not make a usable model, and why (`models list` shows them,
    `ModelStore.remove` deletes them by name)."""

    name: str
    translator: str
    reason: str
    files: tuple[Path, ...]
    bundled: bool

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "translator": self.translator, "kind": "broken",
                "reason": self.reason, "files": [str(f) for f in self.files]}


@dataclass(frozen=True)
class ModelEntry:
    """A model found in the store."""

    card: ModelCard
    weights: Path
    bundled: bool

    @property
    def name(self) -> str:
        return self.card.name

    @property
    def translator(self) -> str:
        return self.card.translator

    @property
    def kind(self) -> str:
        return "bundled" if self.bundled else self.card.kind

    @property
    def card_path(self) -> Path:
        return self.weights.with_suffix(".json")

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "translator": self.translator, "kind": self.kind,
                "weights": str(self.weights), "card": self.card.to_dict()}


class ModelStore:
    """Finds, loads, saves, imports and removes models for the registry's translators.

    Opening a store removes stale temporary files of interrupted writers (see the module doc).
    """

    def __init__(self, registry: Registry, home: Path | None = None) -> None:
        self.registry = registry
        self.home = Path(home) if home is not None else user_home()
        self._locks: dict[Path, Any] = {}
        self.clean_stale()

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    # -- finding -----------------------------------------------------------------------------

    def list(self, translator: str | None = None) -> list[ModelEntry]:
        """Bundled models first, then user models, each sorted by name. Broken ones (see
        `broken()`) are left out, so one damaged file never hides the others."""
        return [e for e in self._scan_all(translator) if isinstance(e, ModelEntry)]

    def broken(self, translator: str | None = None) -> list[BrokenModel]:
        """Files that do not make a usable model: a bad, missing or symlinked card, weights that
        are missing, truncated or empty, a card for another translator."""
        return [e for e in self._scan_all(translator) if isinstance(e, BrokenModel)]

    def _scan_all(self, translator: str | None) -> list[ModelEntry | BrokenModel]:
        found: list[ModelEntry | BrokenModel] = []
        for name, spec in sorted(self.registry.translators.items()):
            if (translator is not None and name != translator) or not spec.weights:
                continue
            if spec.models_dir is not None:
                found.extend(_scan(Path(spec.models_dir), name, bundled=True))
            found.extend(_scan(self.models_dir / name, name, bundled=False))
        return found

    def get(self, name: str, translator: str | None = None) -> ModelEntry:
        """A model by name (`NAME` or `TRANSLATOR/NAME`); raises `ModelNotFoundError`."""
        if translator is None and "/" in name:
            translator, name = name.split("/", 1)
        candidates = [e for e in self.list(translator) if e.name == name]
        if not candidates:
            known = ", ".join(f"{e.translator}/{e.name}" for e in self.list(translator)) or "none"
            raise ModelNotFoundError(f"no model named {name!r}; available: {known}")
        user = [e for e in candidates if not e.bundled]
        return (user or candidates)[0]

    def default(self, translator: str) -> ModelEntry | None:
        """The model a translator uses when none is named: its first bundled model, else the
        most recent user model, else None."""
        entries = self.list(translator)
        bundled = [e for e in entries if e.bundled]
        if bundled:
            return bundled[0]
        users = sorted(entries, key=lambda e: e.card.created)
        return users[-1] if users else None

    # -- loading -----------------------------------------------------------------------------

    def load(self, entry: ModelEntry, progress: ProgressFn | None = None) -> nn.Module:
        """Build the translator's network from the card's config and load the weights strictly.

        progress(fraction in [0, 1], message) hears the stages ("Loading model NAME... 40%
        (building the network)"). Returns a float32 CPU module in eval mode. Raises
        `CheckpointError` when the weights do not fit the architecture.
        """
        spec = self.registry.translator(entry.translator)
        config = spec.resolve_config(entry.card.config, source=f"model card {entry.name!r}")
        stage = _loading_stages(entry.name, progress)
        stage(0.0, "reading the weights")
        state = read_safetensors(entry.weights)
        model = build_with_weights(spec.build, config, state, label=entry.name,
                                   progress=stage)
        stage(1.0, "ready")
        return model

    def open(self, translator: str, name: str | None = None, *,
             progress: ProgressFn | None = None) -> tuple[ModelEntry | None, nn.Module]:
        """The network to run for a translator: the named model, else its default model, else
        a freshly built network when that network has no weights to learn (entry None). A
        translator declared with `weights=False` always gets `build(default_config)`.

        progress: as for `load`. Raises `ModelNotFoundError` when a trainable translator has no
        model at all, or when a model is named for a translator without weights.
        """
        spec = self.registry.translator(translator)
        if not spec.weights:
            if name:
                raise ModelNotFoundError(f"{spec.name} is a filter without weights: it takes no model "
                                         f"(leave out --model {name})")
            return None, spec.build(spec.resolve_config(None)).eval()
        entry = self.get(name, spec.name) if name else self.default(spec.name)
        if entry is not None:
            return entry, self.load(entry, progress)
        model = spec.build(spec.resolve_config(None))
        if any(True for _ in model.parameters()):
            raise ModelNotFoundError(
                f"{spec.name} has no model yet: import one with `translator models import FILE "
                f"--plugin {spec.name}` or train one with `translator-train --plugin {spec.name}`")
        return None, model.eval()

    def load_state(self, name: str) -> tuple[dict[str, Any], dict[str, Tensor]]:
        """The card (as a dict) and the raw tensors of a stored model."""
        entry = self.get(name)
        return entry.card.to_dict(), read_safetensors(entry.weights)

    # -- locking -----------------------------------------------------------------------------

    def folder(self, translator: str) -> Path:
        """The user model folder of a translator, created. Raises `TranslatorError` when the
        store cannot be written (for example `TRANSLATOR_HOME` names a file)."""
        folder = self.models_dir / translator
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TranslatorError(f"cannot create the model folder {folder}: {_os_reason(exc)} "
                                  f"(the store is at {self.home}; set {HOME_ENV} to move it)") from exc
        if not os.access(folder, os.W_OK | os.X_OK):
            raise TranslatorError(f"cannot write to the model folder {folder}: permission denied "
                                  f"(set {HOME_ENV} to move the store)")
        return folder

    @contextmanager
    def lock(self, translator: str, name: str, *, timeout: float = LOCK_TIMEOUT_S,
             waiting: Any = None) -> Iterator[None]:
        """Hold the per-name lock of a user model (re-entrant within a thread).

        `waiting()` is called once when another writer holds it. Raises `TranslatorError` after
        `timeout` seconds.
        """
        from filelock import FileLock, Timeout

        path = self.folder(translator) / f".{name}.lock"
        lock = self._locks.get(path)
        if lock is None:
            lock = self._locks[path] = FileLock(str(path))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if waiting is not None:
                waiting()
            try:
                lock.acquire(timeout=timeout)
            except Timeout:
                raise TranslatorError(f"model {translator}/{name} is being written by another process; "
                                      "try again when it has finished") from None
        try:
            yield
        finally:
            lock.release()

    def clean_stale(self) -> list[Path]:
        """Remove temporary files of writers that died (no one holds their name's lock) and
        partial downloads older than `STALE_PART_S`; returns what was removed. Never raises."""
        from filelock import FileLock, Timeout

        removed: list[Path] = []
        try:
            folders = [f for f in self.models_dir.iterdir() if f.is_dir()] if self.models_dir.is_dir() else []
        except OSError:
            return removed
        now = time.time()
        for folder in folders:
            try:
                leftovers = [p for p in folder.glob(".*") if p.suffix in (".tmp", ".part")]
            except OSError:
                continue
            for path in leftovers:
                name = path.name[1:].split(_TEMP_SEP, 1)[0]
                try:
                    if path.suffix == ".part" and now - path.stat().st_mtime < STALE_PART_S:
                        continue
                    lock = FileLock(str(folder / f".{name}.lock"))
                    lock.acquire(timeout=0)
                except (Timeout, OSError):
                    continue
                try:
                    if path.is_dir() and not path.is_symlink():
                        shutil.rmtree(path)
                    else:
                        path.unlink(missing_ok=True)
                    removed.append(path)
                except OSError:
                    pass
                finally:
                    lock.release()
        return removed

    # -- writing -----------------------------------------------------------------------------

    def save(self, card: ModelCard, state_dict: Mapping[str, Tensor], *, half: bool = True,
             overwrite: bool = False) -> ModelEntry:
        """Write a user model (fp16 unless `half` is False) and its card, with one commit point.

        The card's name is made file-safe (`model_name`); `created` and `sha256` are filled in.
        Raises `TranslatorError` when the name is taken (and not `overwrite`), unusable, or the
        store cannot be written (full disk, permissions).
        """
        name = model_name(card.name)
        with self.lock(card.translator, name):
            return self._save_locked(card, name, state_dict, half=half, overwrite=overwrite)

    def _save_locked(self, card: ModelCard, name: str, state_dict: Mapping[str, Tensor], *,
                     half: bool, overwrite: bool) -> ModelEntry:
        import torch
        from safetensors.torch import save_file

        folder = self.folder(card.translator)
        weights = folder / f"{name}.safetensors"
        card_path = weights.with_suffix(".json")
        if (card_path.exists() or card_path.is_symlink()) and not overwrite:
            raise TranslatorError(f"a model named {name!r} already exists for {card.translator}; "
                                  "choose another name or remove it first")
        tensors = {}
        for key, value in state_dict.items():
            value = value.detach().to("cpu").contiguous()
            if half and value.is_floating_point() and value.dtype == torch.float32:
                value = value.half()
            tensors[key] = value
        temps: list[Path] = []
        try:
            tmp_weights = _temp_for(folder, name)
            temps.append(tmp_weights)
            save_file(tensors, str(tmp_weights), metadata={"format": "translator", "translator": card.translator})
            _fsync(tmp_weights)
            card.name = name
            card.sha256 = _sha256(tmp_weights)
            card.created = card.created or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
            tmp_card = _temp_for(folder, name)
            temps.append(tmp_card)
            tmp_card.write_text(json.dumps(card.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            _fsync(tmp_card)
            # an old card goes first: until the new card lands, the name holds weights without a
            # card, which `broken()` lists and the next save replaces
            card_path.unlink(missing_ok=True)
            os.replace(tmp_weights, weights)
            os.replace(tmp_card, card_path)  # the commit point
        except OSError as exc:
            raise TranslatorError(f"cannot save model {card.translator}/{name} in {folder}: "
                                  f"{_os_reason(exc)}") from exc
        finally:
            for tmp in temps:
                tmp.unlink(missing_ok=True)
        return ModelEntry(card=card, weights=weights, bundled=False)

    def claim_file(self, path: Path, plugin: str | None = None, options: Mapping[str, str] | None = None,
                   existing: Any = None) -> CheckpointClaim:
        """A plugin claims a weights file (detecting the architecture from its keys) and the
        converted weights are verified to load. `existing(name) -> (card dict, state)` serves
        `pair_with=` (default: this store). Raises `CheckpointError` for unknown, unsafe or
        unfitting files."""
        path = Path(path)
        context = ImportContext(options=dict(options or {}), existing=existing or self.load_state)
        claim = self.registry.claim_checkpoint(CheckpointFile(path), plugin, context)
        spec = self.registry.translator(claim.translator)
        config = spec.resolve_config(claim.config, source=f"{path.name} (as its plugin read it)")
        build_with_weights(spec.build, config, claim.state_dict, label=path.name)
        return claim

    def save_claim(self, claim: CheckpointClaim, *, name: str, source: Mapping[str, Any],
                   title: str = "", description: str = "", overwrite: bool = False) -> ModelEntry:
        """Store a verified claim as full-precision safetensors with its card."""
        card = ModelCard(
            name=name, plugin=self.registry.owner(claim.translator), translator=claim.translator,
            config=dict(claim.config), source=dict(source), title=title or claim.title or name,
            description=description or claim.description)
        return self.save(card, claim.state_dict, half=False, overwrite=overwrite)

    def import_file(self, path: Path, plugin: str | None = None, name: str | None = None,
                    options: Mapping[str, str] | None = None) -> ModelEntry:
        """Import a weights file: a plugin claims it (detecting the architecture from its keys),
        the converted weights are verified to load, then saved as safetensors with a card.

        Raises `CheckpointError` for unknown, unsafe or unfitting files, `TranslatorError` for a
        bad name or a store that cannot be written.
        """
        path = Path(path)
        wanted = model_name(name or path.stem)
        claim = self.claim_file(path, plugin, options)
        source = {"kind": "imported", "file": path.name, "file_sha256": _sha256(path)}
        return self.save_claim(claim, name=wanted, source=source, title=claim.title or (name or path.stem))

    def remove(self, name: str, translator: str | None = None) -> ModelEntry | BrokenModel:
        """Delete a user model, or the files of a broken one (bundled ones cannot be removed).

        Raises `ModelNotFoundError` when nothing of that name exists.
        """
        if translator is None and "/" in name:
            translator, name = name.split("/", 1)
        try:
            entry: ModelEntry | BrokenModel = self.get(name, translator)
        except ModelNotFoundError:
            matches = [b for b in self.broken(translator) if b.name == name and not b.bundled]
            if not matches:
                raise
            entry = matches[0]
        if entry.bundled:
            raise TranslatorError(f"{entry.name!r} is bundled with its plugin and cannot be removed")
        files = entry.files if isinstance(entry, BrokenModel) else (entry.card_path, entry.weights)
        with self.lock(entry.translator, entry.name):
            try:
                for path in files:  # the card first: the model disappears at once
                    path.unlink(missing_ok=True)
            except OSError as exc:
                raise TranslatorError(f"cannot remove {entry.translator}/{entry.name}: {_os_reason(exc)}") from exc
        return entry

    def part_path(self, translator: str, name: str, filename: str) -> Path:
        """Where a download for model `name` keeps its partial file (hidden, in the store)."""
        return self.folder(translator) / f".{name}{_TEMP_SEP}{filename}.part"


def _scan(folder: Path, translator: str, *, bundled: bool) -> list[ModelEntry | BrokenModel]:
    """Models and broken entries of one folder, sorted by name."""
    try:
        if not folder.is_dir():
            return []
        files = [p for p in folder.iterdir() if not p.name.startswith(".")
                 and p.suffix in (".safetensors", ".json")]
    except OSError:
        return []
    names = sorted({p.stem for p in files})
    found: list[ModelEntry | BrokenModel] = []
    for name in names:
        weights, card_path = folder / f"{name}.safetensors", folder / f"{name}.json"
        present = tuple(p for p in (card_path, weights) if p.exists() or p.is_symlink())

        def broken(reason: str, name: str = name, present: tuple[Path, ...] = present) -> BrokenModel:
            return BrokenModel(name=name, translator=translator, reason=reason, files=present, bundled=bundled)

        if not (card_path.exists() or card_path.is_symlink()):
            found.append(broken("no model card (an interrupted save?)"))
            continue
        if card_path.is_symlink():
            found.append(broken("the model card is a symbolic link (not followed)"))
            continue
        try:
            card = _read_card(card_path)
        except CheckpointError as exc:
            found.append(broken(str(exc)))
            continue
        if card.translator != translator:
            found.append(broken(f"the card is for translator {card.translator!r}, not {translator!r}"))
            continue
        problem = _check_weights(weights)
        if problem:
            found.append(broken(problem))
            continue
        card.name = name
        found.append(ModelEntry(card=card, weights=weights, bundled=bundled))
    return found


def _check_weights(path: Path) -> str | None:
    """Why a safetensors file is unusable (missing, empty, truncated, bad header), or None.
    Reads only the header."""
    try:
        size = path.stat().st_size
        if size < 8:
            return f"weights file {path.name} is empty or truncated ({size} bytes)"
        with path.open("rb") as fh:
            (length,) = struct.unpack("<Q", fh.read(8))
            if length > min(size - 8, 100 << 20):
                return f"weights file {path.name} is truncated (header of {length} bytes in {size})"
            header = json.loads(fh.read(length))
    except FileNotFoundError:
        return f"weights file {path.name} is missing"
    except (OSError, ValueError) as exc:
        return f"weights file {path.name} is unreadable ({exc})"
    if not isinstance(header, dict):
        return f"weights file {path.name} has a bad header"
    ends = [v.get("data_offsets", [0, 0])[1] for k, v in header.items()
            if k != "__metadata__" and isinstance(v, dict)]
    expected = 8 + length + max(ends, default=0)
    if expected != size:
        return f"weights file {path.name} is truncated ({size} of {expected} bytes)"
    return None


def build_with_weights(build: Any, config: Mapping[str, Any], state: Mapping[str, Tensor], *,
                       label: str, progress: ProgressFn | None = None) -> nn.Module:
    """`build(config)` then `load_state_dict(state, strict=True)`, as float32, eval mode.

    progress(fraction, stage) hears "building the network" and "loading the weights into it".
    Raises `CheckpointError` naming the missing, unexpected and misshapen keys
    (`translator.weights.check_fits`).
    """
    import torch

    from translator.weights import check_fits

    if progress is not None:
        progress(LOAD_STAGES["build"], "building the network")
    try:
        model = build(dict(config))
    except TranslatorError:
        raise
    except Exception as exc:  # noqa: BLE001 - a bad config from a file is the file's fault
        raise CheckpointError(f"{label}: cannot build the network from its config ({exc})") from exc
    if progress is not None:
        progress(LOAD_STAGES["fill"], "loading the weights into it")
    state = {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}
    check_fits(model, state, subject=f"{label}:")
    try:
        result = model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{label}: weights do not fit the network: {_first_lines(exc)}") from exc
    del result
    model.to(torch.float32)
    return model.eval()


LOAD_STAGES = {"build": 0.4, "fill": 0.7}
"""Where the stages of `ModelStore.load` start, as fractions of the whole load (reading the
weights starts at 0)."""


def _loading_stages(name: str, progress: ProgressFn | None) -> ProgressFn:
    """progress(fraction, stage) -> progress(fraction, "Loading model NAME... 40% (stage)")."""

    def stage(fraction: float, what: str) -> None:
        if progress is not None:
            progress(fraction, f"Loading model {name}... {round(fraction * 100)}% ({what})")

    return stage


def _read_card(path: Path) -> ModelCard:
    try:
        return ModelCard.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except CheckpointError as exc:
        raise CheckpointError(f"bad model card {path.name}: {exc}") from exc
    except (OSError, ValueError, TypeError) as exc:
        raise CheckpointError(f"bad model card {path.name}: unreadable ({exc})") from exc


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _temp_for(folder: Path, name: str) -> Path:
    """A new hidden temporary file for model `name` (`.NAME+XXXX.tmp`)."""
    fd, path = tempfile.mkstemp(prefix=f".{name}{_TEMP_SEP}", suffix=".tmp", dir=folder)
    os.close(fd)
    return Path(path)


def _fsync(path: Path) -> None:
    with path.open("rb") as fh:
        os.fsync(fh.fileno())


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _describe_data(data: Any) -> str:
    if isinstance(data, Mapping):
        return ", ".join(f"{k}: {v}" for k, v in data.items())
    if isinstance(data, (list, tuple)):
        return ", ".join(_describe_data(d) for d in data)
    return str(data)


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _first_lines(exc: BaseException, n: int = 4) -> str:
    return " ".join(str(exc).splitlines()[:n])
