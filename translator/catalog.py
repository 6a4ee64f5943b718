"""The model catalog: published models the plugins know how to install, and installing them.

Plugins contribute `CatalogEntry` objects through the `translator_model_catalog` hook (the
built-in plugins too). `load_catalog()` collects and checks them; `install()` downloads an
entry's files into partial files in the store (`translator.download`), verifies size and
sha256, runs the ordinary import path (the plugin claims the file, the weights are loaded with
`weights_only` or the allow-list unpickler and verified to fit), and saves the model with the
store's single commit step, all under the model name's lock. Where no hash is published, the
first download's hash is recorded (in the card and in `<home>/catalog-hashes.json`) and every
later download must match it.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from translator.errors import Cancelled, DownloadError, ModelNotFoundError, TranslatorError

if TYPE_CHECKING:
    from translator.checkpoints import CheckpointClaim
    from translator.plugins import Registry
    from translator.store import ModelEntry, ModelStore

log = logging.getLogger(__name__)

HASHES_FILE = "catalog-hashes.json"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_HEX = re.compile(r"[0-9a-f]{8,64}")


@dataclass(frozen=True)
class CatalogFile:
    """One published file of a catalog entry.

    url: where it is downloaded from (http or https).
    filename: the name the plugin's importer sees (default: the last part of the URL path).
    sha256: the published hash in lowercase hex, or its first 8+ digits (PyTorch Hub file names
        carry such a prefix), or "" when none is published.
    size: the exact size in bytes when it is published, else None.
    options: import options for this file (what `--set key=value` gives `models import`).
    """

    url: str
    filename: str = ""
    sha256: str = ""
    size: int | None = None
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.filename or Path(urlparse(self.url).path).name


@dataclass(frozen=True)
class CatalogEntry:
    """A published model a plugin can install.

    name: the model's name in the store (letters, digits, '.', '-', '_'); unique per plugin.
    plugin: the contributing plugin's name. translator: the translator the model is for
        (default: the plugin's only one).
    title, description: what the model does. expects: the input it expects (for example
        "photos of horses"). resolution: what it was trained at / generates.
    licence, paper: as published. source: the address where these facts and the files' addresses
        are published (a download script, a README).
    files: one file, or two that make one model: the second is imported first and the first is
        imported with `pair_with` naming it (CycleGAN's two directions).
    approx_size: bytes, estimated from the architecture when no exact size is published.
    supported: False for published models the plugin cannot run; `reason` says why.
    notes: anything that could not be found out (for example "no hash published").
    """

    name: str
    plugin: str
    title: str
    description: str
    expects: str
    resolution: str
    licence: str
    paper: str
    source: str
    files: tuple[CatalogFile, ...]
    translator: str = ""
    approx_size: int | None = None
    supported: bool = True
    reason: str = ""
    notes: str = ""

    @property
    def qualified(self) -> str:
        return f"{self.plugin}/{self.name}"

    @property
    def size(self) -> int | None:
        """Total exact size in bytes, or None when a file's size is not published."""
        sizes = [f.size for f in self.files]
        return None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)

    def size_text(self) -> str:
        if self.size is not None:
            return _human(self.size)
        if self.approx_size is not None:
            return "~" + _human(self.approx_size)
        return "not published"

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "plugin": self.plugin, "title": self.title, "description": self.description,
                "expects": self.expects, "resolution": self.resolution, "licence": self.licence,
                "paper": self.paper, "source": self.source, "size": self.size, "approx_size": self.approx_size,
                "supported": self.supported, "reason": self.reason, "notes": self.notes,
                "files": [{"url": f.url, "filename": f.name, "sha256": f.sha256, "size": f.size,
                           "options": dict(f.options)} for f in self.files]}


def check_entry(entry: CatalogEntry) -> list[str]:
    """What is wrong with an entry's fields (empty when nothing)."""
    problems = []
    if not _NAME.fullmatch(entry.name or ""):
        problems.append(f"name {entry.name!r} must be letters, digits, '.', '-', '_'")
    for key in ("plugin", "title", "description", "expects", "resolution", "licence", "paper", "source"):
        value = getattr(entry, key)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{key} is empty")
    if not entry.supported and not entry.reason.strip():
        problems.append("an unsupported entry needs a reason")
    if not 1 <= len(entry.files) <= 2:
        problems.append(f"has {len(entry.files)} files (1 or 2)")
    for f in entry.files:
        if not isinstance(f, CatalogFile):
            problems.append(f"file {f!r} is not a CatalogFile")
            continue
        if urlparse(f.url).scheme not in ("http", "https") or not urlparse(f.url).netloc:
            problems.append(f"file address {f.url!r} is not http(s)")
        if f.sha256 and not _HEX.fullmatch(f.sha256):
            problems.append(f"sha256 {f.sha256!r} is not 8-64 lowercase hex digits")
        if f.size is not None and (not isinstance(f.size, int) or f.size <= 0):
            problems.append(f"size {f.size!r} is not a positive number of bytes")
        if not f.name:
            problems.append(f"file {f.url!r} has no file name")
    return problems


@dataclass
class Catalog:
    """Every plugin's catalog entries (checked), and the problems found while collecting them."""

    entries: list[CatalogEntry]
    problems: list[str] = field(default_factory=list)

    def for_plugin(self, plugin: str | None) -> list[CatalogEntry]:
        return [e for e in self.entries if plugin is None or e.plugin == plugin]

    def find(self, name: str) -> CatalogEntry:
        """An entry by `NAME` or `PLUGIN/NAME`. Raises `ModelNotFoundError` (with the known names)
        or `TranslatorError` when a bare name is in several plugins' catalogs."""
        plugin, _, bare = name.rpartition("/")
        matches = [e for e in self.entries if e.name == bare and (not plugin or e.plugin == plugin)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise TranslatorError(f"{bare!r} is in several catalogs; name one of: "
                                  + ", ".join(e.qualified for e in matches))
        known = ", ".join(e.qualified for e in self.entries) or "none"
        raise ModelNotFoundError(f"no catalog model named {name!r}; available: {known}")


def load_catalog(registry: Registry) -> Catalog:
    """Collect the `translator_model_catalog` entries of every working plugin.

    A plugin returning something else than `CatalogEntry` objects is marked broken; an entry
    with bad fields, for another plugin or with a duplicate name is left out and reported in
    `Catalog.problems`.
    """
    from translator.errors import PluginError

    catalog = Catalog(entries=[])
    seen: set[str] = set()
    for plugin, entries in registry.model_catalog():
        bad = [e for e in entries if not isinstance(e, CatalogEntry)]
        if bad:
            registry.mark_broken(plugin, PluginError(
                f"translator_model_catalog returned {type(bad[0]).__name__}, not CatalogEntry"))
            continue
        for entry in entries:
            problems = check_entry(entry)
            if entry.plugin != plugin:
                problems.append(f"it names plugin {entry.plugin!r}, not {plugin!r}")
            if entry.qualified in seen:
                problems.append("the name is already in the catalog")
            if problems:
                catalog.problems.append(f"plugin {plugin!r}, catalog entry {entry.name!r}: " + "; ".join(problems))
                log.warning(catalog.problems[-1])
                continue
            seen.add(entry.qualified)
            catalog.entries.append(entry)
    return catalog


# -- installing ----------------------------------------------------------------------------------

def translator_of(registry: Registry, entry: CatalogEntry) -> str:
    """The translator an entry installs into. Raises `PluginError` when its plugin is gone."""
    return registry.translator(entry.translator or entry.plugin).name


def installed(store: ModelStore, entry: CatalogEntry) -> ModelEntry | None:
    """The store's model installed from this entry, or None."""
    try:
        translator = translator_of(store.registry, entry)
    except TranslatorError:
        return None
    for model in store.list(translator):
        if not model.bundled and model.name == entry.name and model.card.source.get("catalog") == entry.qualified:
            return model
    return None


@dataclass(frozen=True)
class Installed:
    """What `install` did: the model, and whether it was downloaded now (False: it was there)."""

    model: ModelEntry
    downloaded: bool


ByteProgress = Callable[[str, int, "int | None"], None]
"""progress(file name, bytes so far, total bytes or None)."""


def install(store: ModelStore, entry: CatalogEntry, *, force: bool = False,
            progress: ByteProgress | None = None, cancel: threading.Event | None = None,
            waiting: Callable[[], None] | None = None, **fetch_options: Any) -> Installed:
    """Download, verify, import and save one catalog entry.

    Without `force` an installed entry is left as it is. Another process installing the same
    model is waited for (`waiting()` is called once). On any failure nothing is installed and
    partial files are removed, except after a network failure, a cancel or Ctrl+C that left bytes
    to resume (the next install continues them). `fetch_options` go to `download.fetch` (timeouts, retries).
    Raises `DownloadError`, `CheckpointError`, `Cancelled` or `TranslatorError`.
    """
    from translator import download
    from translator.store import model_name

    if not entry.supported:
        raise TranslatorError(f"{entry.qualified} is not supported: {entry.reason}")
    translator = translator_of(store.registry, entry)
    name = model_name(entry.name)
    with store.lock(translator, name, waiting=waiting):
        current = installed(store, entry)
        if current is not None and not force:
            return Installed(current, downloaded=False)
        if current is None and not force and (store.models_dir / translator / f"{name}.json").exists():
            raise TranslatorError(f"a model named {name!r} already exists for {translator} and was not "
                                  "installed from the catalog; remove it first or use --force")
        recorded = _recorded_hashes(store.home)
        parts: list[Path] = []
        digests: list[str] = []
        try:
            for item in entry.files:
                part = store.part_path(translator, name, item.name)
                parts.append(part)
                expected = item.sha256 or recorded.get(item.url, "")

                def report(done: int, total: int | None, filename: str = item.name) -> None:
                    if progress is not None:
                        progress(filename, done, total)

                digests.append(download.fetch(item.url, part, size=item.size, sha256=expected,
                                              progress=report, cancel=cancel, **fetch_options))
            claim = _claim(store, entry, parts)
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"installing {entry.qualified} cancelled")
            files = [{"url": f.url, "filename": f.name, "sha256": d, "size": p.stat().st_size,
                      "sha256_published": bool(f.sha256)} for f, d, p in zip(entry.files, digests, parts)]
            source = {"kind": "downloaded", "catalog": entry.qualified, "url": entry.files[0].url,
                      "sha256": digests[0], "files": files, "licence": entry.licence, "paper": entry.paper,
                      "page": entry.source,
                      "downloaded": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
            model = store.save_claim(claim, name=name, source=source, title=entry.title,
                                     description=f"{entry.description} Expects {entry.expects}.",
                                     overwrite=True)
        except BaseException as exc:
            keep = (isinstance(exc, (Cancelled, KeyboardInterrupt))
                    or (isinstance(exc, DownloadError) and exc.resumable))
            for part in parts:
                if not (keep and download.resumable(part)):
                    part.unlink(missing_ok=True)
            raise
        finally:
            _remove_links(store.folder(translator), name)
        for part in parts:
            part.unlink(missing_ok=True)
        _record_hashes(store.home, {f.url: d for f, d in zip(entry.files, digests)})
        return Installed(model, downloaded=True)


def _claim(store: ModelStore, entry: CatalogEntry, parts: Sequence[Path]) -> CheckpointClaim:
    """The plugin claims the downloaded file(s) under their published names; two files are
    paired (`pair_with`) without an intermediate model in the store."""
    first = _as_published(parts[0], entry.files[0].name)
    if len(parts) == 1:
        return store.claim_file(first, entry.plugin, entry.files[0].options)
    second = _as_published(parts[1], entry.files[1].name)
    other = store.claim_file(second, entry.plugin, entry.files[1].options)
    label = f"{entry.files[1].name}"
    card = {"name": label, "translator": other.translator, "config": dict(other.config)}

    def existing(name: str) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        if name != label:
            raise ModelNotFoundError(f"no model named {name!r}")
        return card, other.state_dict

    options = {**entry.files[0].options, "pair_with": label}
    return store.claim_file(first, entry.plugin, options, existing=existing)


def _as_published(part: Path, filename: str) -> Path:
    """A hard link (else a copy) of a downloaded file under its published name, in a hidden
    folder beside it (`.NAME+XXXX.tmp/`, removed by `install` or as stale), so the importer sees
    the real name and suffix."""
    import tempfile

    name = part.name[1:].split("+", 1)[0]
    target = Path(tempfile.mkdtemp(prefix=f".{name}+", suffix=".tmp", dir=part.parent)) / filename
    try:
        os.link(part, target)
    except OSError:
        import shutil

        shutil.copyfile(part, target)
    return target


def _remove_links(folder: Path, name: str) -> None:
    import glob
    import shutil

    for path in folder.glob(f".{glob.escape(name)}+*.tmp"):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


def _recorded_hashes(home: Path) -> dict[str, str]:
    try:
        data = json.loads((home / HASHES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _record_hashes(home: Path, hashes: Mapping[str, str]) -> None:
    """Add first-seen hashes (trust on first use) without losing concurrent additions."""
    from filelock import FileLock

    path = home / HASHES_FILE
    try:
        with FileLock(str(home / f".{HASHES_FILE}.lock"), timeout=30):
            data = _recorded_hashes(home)
            data.update({k: v for k, v in hashes.items() if k not in data})
            tmp = path.with_name(f".{HASHES_FILE}.tmp")
            tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            os.replace(tmp, path)
    except Exception as exc:  # noqa: BLE001 - the model is installed; the record is a convenience
        log.warning("could not record download hashes in %s: %s", path, exc)


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"
