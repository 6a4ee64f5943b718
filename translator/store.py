"""The model store: bundled models inside plugin packages, user models in the user data dir.

Every model is `NAME.safetensors` beside a JSON model card `NAME.json`. User models (trained or
imported) live in `<home>/models/<translator>/`, where home is `$TRANSLATOR_HOME` or the
platformdirs user data dir. Loading never executes code from a file: our own format is
safetensors; foreign `.pth`/`.pt` files are read with `torch.load(weights_only=True)` by
`translator.checkpoints` and converted on import.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from translator.checkpoints import CheckpointFile, ImportContext, read_safetensors
from translator.errors import CheckpointError, ModelNotFoundError, TranslatorError

if TYPE_CHECKING:
    from torch import Tensor, nn

    from translator.plugins import Registry

HOME_ENV = "TRANSLATOR_HOME"
CARD_FORMAT = 1
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


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

    source: {"kind": "bundled" | "trained" | "imported", plus "file" (imported from),
        "run" (training run folder) ...}.
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
        known = {f for f in cls.__dataclass_fields__}
        missing = {"name", "translator", "config"} - set(data)
        if missing:
            raise CheckpointError(f"model card lacks {', '.join(sorted(missing))}")
        values = {k: v for k, v in data.items() if k in known}
        values.setdefault("plugin", data["translator"])
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
        training = self.training
        if training:
            parts = []
            if training.get("data"):
                parts.append(f"data: {_describe_data(training['data'])}")
            if training.get("steps") is not None:
                parts.append(f"{training['steps']} steps")
            if training.get("time_s") is not None:
                parts.append(f"{float(training['time_s']) / 60:.1f} min")
            if training.get("device"):
                parts.append(f"on {training['device']}")
            if parts:
                lines.append("trained: " + ", ".join(parts))
        if self.metrics:
            lines.append("metrics: " + ", ".join(f"{k} {_fmt(v)}" for k, v in self.metrics.items()))
        if self.created:
            lines.append(f"created {self.created}")
        return "\n".join(lines)


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
    """Finds, loads, saves, imports and removes models for the registry's translators."""

    def __init__(self, registry: Registry, home: Path | None = None) -> None:
        self.registry = registry
        self.home = Path(home) if home is not None else user_home()

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    # -- finding -----------------------------------------------------------------------------

    def list(self, translator: str | None = None) -> list[ModelEntry]:
        """Bundled models first, then user models, each sorted by name. Unreadable cards are
        skipped (logged), so one damaged file never hides the others."""
        entries: list[ModelEntry] = []
        for name, spec in sorted(self.registry.translators.items()):
            if translator is not None and name != translator:
                continue
            if spec.models_dir is not None:
                entries.extend(self._scan(Path(spec.models_dir), name, bundled=True))
            entries.extend(self._scan(self.models_dir / name, name, bundled=False))
        return entries

    def _scan(self, folder: Path, translator: str, *, bundled: bool) -> list[ModelEntry]:
        found = []
        if not folder.is_dir():
            return found
        for weights in sorted(folder.glob("*.safetensors")):
            try:
                card = _read_card(weights.with_suffix(".json"))
            except CheckpointError:
                continue
            if card.translator != translator:
                continue
            found.append(ModelEntry(card=card, weights=weights, bundled=bundled))
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

    def load(self, entry: ModelEntry) -> nn.Module:
        """Build the translator's network from the card's config and load the weights strictly.

        Returns a float32 CPU module in eval mode. Raises `CheckpointError` when the weights do
        not fit the architecture.
        """
        spec = self.registry.translator(entry.translator)
        state = read_safetensors(entry.weights)
        return build_with_weights(spec.build, entry.card.config, state, label=entry.name)

    def open(self, translator: str, name: str | None = None) -> tuple[ModelEntry | None, nn.Module]:
        """The network to run for a translator: the named model, else its default model, else
        a freshly built network when that network has no weights to learn (entry None).

        Raises `ModelNotFoundError` when a trainable translator has no model at all.
        """
        spec = self.registry.translator(translator)
        entry = self.get(name, spec.name) if name else self.default(spec.name)
        if entry is not None:
            return entry, self.load(entry)
        model = spec.build(dict(spec.default_config))
        if any(True for _ in model.parameters()):
            raise ModelNotFoundError(
                f"{spec.name} has no model yet: import one with `translator models import FILE "
                f"--plugin {spec.name}` or train one with `translator-train --plugin {spec.name}`")
        return None, model.eval()

    def load_state(self, name: str) -> tuple[dict[str, Any], dict[str, Tensor]]:
        """The card (as a dict) and the raw tensors of a stored model."""
        entry = self.get(name)
        return entry.card.to_dict(), read_safetensors(entry.weights)

    # -- writing -----------------------------------------------------------------------------

    def save(self, card: ModelCard, state_dict: Mapping[str, Tensor], *, half: bool = True,
             overwrite: bool = False) -> ModelEntry:
        """Write a user model (fp16 unless `half` is False) and its card, atomically.

        The card's name is made file-safe; `created` and `sha256` are filled in.
        """
        import torch
        from safetensors.torch import save_file

        name = _SAFE_NAME.sub("-", card.name).strip("-.") or "model"
        folder = self.models_dir / card.translator
        folder.mkdir(parents=True, exist_ok=True)
        weights = folder / f"{name}.safetensors"
        if weights.exists() and not overwrite:
            raise TranslatorError(f"a model named {name!r} already exists for {card.translator}; "
                                  "choose another name or remove it first")
        tensors = {}
        for key, value in state_dict.items():
            value = value.detach().to("cpu").contiguous()
            if half and value.is_floating_point() and value.dtype == torch.float32:
                value = value.half()
            tensors[key] = value
        tmp = _temp_beside(weights)
        try:
            save_file(tensors, str(tmp), metadata={"format": "translator", "translator": card.translator})
            digest = _sha256(tmp)
            os.replace(tmp, weights)
        finally:
            tmp.unlink(missing_ok=True)
        card.name = name
        card.sha256 = digest
        card.created = card.created or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        _write_text_atomic(weights.with_suffix(".json"), json.dumps(card.to_dict(), indent=2) + "\n")
        return ModelEntry(card=card, weights=weights, bundled=False)

    def import_file(self, path: Path, plugin: str | None = None, name: str | None = None,
                    options: Mapping[str, str] | None = None) -> ModelEntry:
        """Import a weights file: a plugin claims it (detecting the architecture from its keys),
        the converted weights are verified to load, then saved as safetensors with a card.

        Raises `CheckpointError` for unknown, unsafe or unfitting files.
        """
        path = Path(path)
        checkpoint = CheckpointFile(path)
        context = ImportContext(options=dict(options or {}), existing=self.load_state)
        claim = self.registry.claim_checkpoint(checkpoint, plugin, context)
        spec = self.registry.translator(claim.translator)
        build_with_weights(spec.build, claim.config, claim.state_dict, label=path.name)
        card = ModelCard(
            name=name or path.stem,
            plugin=self.registry.owner(claim.translator),
            translator=claim.translator,
            config=dict(claim.config),
            source={"kind": "imported", "file": path.name, "file_sha256": _sha256(path)},
            title=claim.title or (name or path.stem),
            description=claim.description,
        )
        return self.save(card, claim.state_dict, half=False)

    def remove(self, name: str, translator: str | None = None) -> ModelEntry:
        """Delete a user model (bundled ones cannot be removed)."""
        entry = self.get(name, translator)
        if entry.bundled:
            raise TranslatorError(f"{entry.name!r} is bundled with its plugin and cannot be removed")
        entry.weights.unlink(missing_ok=True)
        entry.card_path.unlink(missing_ok=True)
        return entry


def build_with_weights(build: Any, config: Mapping[str, Any], state: Mapping[str, Tensor], *,
                       label: str) -> nn.Module:
    """`build(config)` then `load_state_dict(state, strict=True)`, as float32, eval mode.

    Raises `CheckpointError` naming the missing/unexpected keys or the shape mismatch.
    """
    import torch

    try:
        model = build(dict(config))
    except TranslatorError:
        raise
    except Exception as exc:  # noqa: BLE001 - a bad config from a file is the file's fault
        raise CheckpointError(f"{label}: cannot build the network from its config ({exc})") from exc
    state = {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}
    try:
        result = model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{label}: weights do not fit the network: {_first_lines(exc)}") from exc
    del result
    model.to(torch.float32)
    return model.eval()


def _read_card(path: Path) -> ModelCard:
    try:
        return ModelCard.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path.name}: unreadable model card ({exc})") from exc


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _temp_beside(path: Path) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(name)


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = _temp_beside(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


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
