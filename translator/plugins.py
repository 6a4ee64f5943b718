"""Loading plugins with pluggy and keeping each one's failures to itself.

`load_registry()` is the factory: it builds a fresh plugin manager (no global), loads every
entry point of the `translator.plugins` group, each under its own guard, and collects the
translators. A plugin that fails to import, misspells a hook, raises in a hook or later during
inference is marked broken with its error; the others keep working.
"""
from __future__ import annotations

import importlib.metadata as metadata
import logging
import os
import re
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pluggy

from translator import hookspecs
from translator.checkpoints import CheckpointClaim, CheckpointFile, ImportContext
from translator.errors import CheckpointError, PluginError, TranslatorError
from translator.spec import TranslatorSpec

log = logging.getLogger(__name__)

PROJECT = "translator"
ENTRY_POINT_GROUP = "translator.plugins"
DISTRIBUTION = "image-translator"
AUTOLOAD_ENV = "TRANSLATOR_DISABLE_PLUGIN_AUTOLOAD"
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


@dataclass
class PluginInfo:
    """What is known about one plugin, loaded or broken.

    source: "built-in" (shipped with Translator), "package" (another installed distribution) or
    "local" (registered directly, e.g. by tests).
    """

    name: str
    version: str
    source: str
    module: str
    translators: list[str] = field(default_factory=list)
    hooks: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def broken(self) -> bool:
        return self.error is not None

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "module": self.module,
            "translators": list(self.translators),
            "hooks": list(self.hooks),
            "status": "broken" if self.broken else "ok",
            "error": self.error,
        }


class Registry:
    """The loaded plugins and the translators they contribute."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self._translators: dict[str, TranslatorSpec] = {}
        self._owner: dict[str, str] = {}

    # -- loading -----------------------------------------------------------------------------

    def register(self, plugin: object, name: str, *, version: str = "", source: str = "local",
                 module: str | None = None) -> PluginInfo:
        """Register a plugin object or module and collect its translators, never raising."""
        info = PluginInfo(name=name, version=version, source=source,
                          module=module or getattr(plugin, "__name__", type(plugin).__name__))
        self.plugins[name] = info
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:  # noqa: BLE001 - any failure marks only this plugin broken
            info.error = f"could not register: {exc}"
            return info
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(name=name)
            info.error = f"unknown hook (misspelt?): {exc}"
            return info
        info.hooks = sorted(
            caller.name for caller in self.pm.get_hookcallers(plugin) or () if caller.name.startswith("translator_")
        )
        self._collect_translators(name, info)
        return info

    def _collect_translators(self, name: str, info: PluginInfo) -> None:
        for impl in self.pm.hook.translator_translators.get_hookimpls():
            if impl.plugin_name != name:
                continue
            try:
                specs = list(impl.function() or ())
                for spec in specs:
                    self._check_spec(spec)
            except Exception as exc:  # noqa: BLE001
                self.mark_broken(name, exc)
                return
            for spec in specs:
                if spec.name in self._translators:
                    info.error = (f"translator {spec.name!r} is already provided by plugin "
                                  f"{self._owner[spec.name]!r}")
                    continue
                self._translators[spec.name] = spec
                self._owner[spec.name] = name
                info.translators.append(spec.name)

    @staticmethod
    def _check_spec(spec: object) -> None:
        if not isinstance(spec, TranslatorSpec):
            raise PluginError(f"translator_translators returned {type(spec).__name__}, not TranslatorSpec")
        if not _NAME.fullmatch(spec.name):
            raise PluginError(f"translator name {spec.name!r} must be lowercase letters, digits, '-', '_'")
        if spec.size_multiple < 1:
            raise PluginError(f"translator {spec.name!r}: size_multiple must be >= 1")

    def load_entry_points(self, *, third_party: bool = True) -> None:
        """Load every `translator.plugins` entry point, each under its own guard."""
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = ep.dist
            dist_name = dist.metadata["Name"] if dist is not None else ""
            builtin = _canonical(dist_name) == _canonical(DISTRIBUTION)
            if not builtin and not third_party:
                continue
            if ep.name in self.plugins:
                continue
            version = dist.version if dist is not None else ""
            source = "built-in" if builtin else "package"
            try:
                plugin = ep.load()
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the others
                log.warning("plugin %s failed to import: %s", ep.name, exc)
                self.plugins[ep.name] = PluginInfo(
                    name=ep.name, version=version, source=source, module=ep.value,
                    error=f"import failed: {type(exc).__name__}: {exc}")
                continue
            self.register(plugin, ep.name, version=version, source=source, module=ep.value)

    # -- failures ----------------------------------------------------------------------------

    def mark_broken(self, plugin: str, exc: BaseException) -> None:
        """Mark a plugin broken (after it raised) and withdraw its translators."""
        info = self.plugins.get(plugin)
        if info is None:
            return
        info.error = f"{type(exc).__name__}: {exc}"
        log.warning("plugin %s marked broken: %s\n%s", plugin, exc,
                    "".join(traceback.format_exception(exc)))
        for name in info.translators:
            self._translators.pop(name, None)
            self._owner.pop(name, None)

    # -- queries -----------------------------------------------------------------------------

    @property
    def translators(self) -> dict[str, TranslatorSpec]:
        """Working translators by name."""
        return dict(self._translators)

    def owner(self, translator: str) -> str:
        """Name of the plugin that contributes a translator."""
        return self._owner[translator]

    def translator(self, name: str) -> TranslatorSpec:
        """A translator by its name, or by the name of a plugin that has exactly one.

        Raises `PluginError` listing what exists, or the plugin's error when it is broken.
        """
        if name in self._translators:
            return self._translators[name]
        info = self.plugins.get(name)
        if info is not None:
            if info.broken:
                raise PluginError(f"plugin {name!r} is broken: {info.error}")
            if len(info.translators) == 1:
                return self._translators[info.translators[0]]
            if info.translators:
                raise PluginError(f"plugin {name!r} has several translators: {', '.join(info.translators)}")
        known = ", ".join(sorted(self._translators)) or "none"
        raise PluginError(f"no translator or plugin named {name!r}; available: {known}")

    def working(self) -> Iterator[PluginInfo]:
        return (p for p in self.plugins.values() if not p.broken)

    def claim_checkpoint(self, checkpoint: CheckpointFile, plugin: str | None,
                         context: ImportContext | None = None) -> CheckpointClaim:
        """Ask the plugins, one by one, to claim a foreign weights file (firstresult).

        Raises `CheckpointError` when no plugin recognises it (or the chosen one refuses it).
        """
        context = context or ImportContext()
        if plugin is not None:
            plugin = self._plugin_name_for(plugin)
        errors: list[str] = []
        for impl in self.pm.hook.translator_claim_checkpoint.get_hookimpls()[::-1]:
            if plugin is not None and impl.plugin_name != plugin:
                continue
            try:
                claim = impl.function(checkpoint=checkpoint, plugin=plugin, context=context)
            except TranslatorError as exc:
                if plugin is not None or isinstance(exc, CheckpointError):
                    errors.append(str(exc))
                    if plugin is not None:
                        raise
                continue
            except Exception as exc:  # noqa: BLE001
                self.mark_broken(impl.plugin_name, exc)
                continue
            if claim is not None:
                if claim.translator not in self._translators:
                    raise CheckpointError(f"plugin {impl.plugin_name!r} claimed the file for unknown "
                                          f"translator {claim.translator!r}")
                return claim
        detail = f" ({'; '.join(errors)})" if errors else ""
        asked = f"plugin {plugin!r}" if plugin else "any installed plugin"
        raise CheckpointError(f"{checkpoint.path.name}: not recognised by {asked}{detail}")

    def model_catalog(self) -> list[tuple[str, list[Any]]]:
        """(plugin name, its `translator_model_catalog()` list) for each working plugin; a plugin
        whose hook raises is marked broken and left out. `translator.catalog` checks the entries."""
        results = []
        for impl in self.pm.hook.translator_model_catalog.get_hookimpls():
            info = self.plugins.get(impl.plugin_name)
            if info is None or info.broken:
                continue
            try:
                results.append((impl.plugin_name, list(impl.function() or ())))
            except Exception as exc:  # noqa: BLE001 - a broken catalog marks only its plugin
                self.mark_broken(impl.plugin_name, exc)
        return results

    def _plugin_name_for(self, name: str) -> str:
        if name in self.plugins:
            return name
        if name in self._owner:
            return self._owner[name]
        raise PluginError(f"no plugin named {name!r}; available: {', '.join(sorted(self.plugins))}")

    def describe(self) -> list[dict[str, Any]]:
        """Every plugin with its translators, for `translator plugins --json`."""
        out = []
        for info in sorted(self.plugins.values(), key=lambda p: p.name):
            item = info.describe()
            item["translators"] = [self._translators[t].describe() for t in info.translators
                                   if t in self._translators]
            out.append(item)
        return out


def autoload_enabled() -> bool:
    """False when `TRANSLATOR_DISABLE_PLUGIN_AUTOLOAD` is set to a true value."""
    return os.environ.get(AUTOLOAD_ENV, "").strip().lower() not in ("1", "true", "yes", "on")


def load_registry(extra: Iterable[tuple[str, object]] = (), *, third_party: bool | None = None) -> Registry:
    """A fresh registry with the built-in plugins, third-party ones (unless disabled) and `extra`
    (name, plugin) pairs registered as local plugins."""
    registry = Registry()
    registry.load_entry_points(third_party=autoload_enabled() if third_party is None else third_party)
    for name, plugin in extra:
        registry.register(plugin, name)
    return registry


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
