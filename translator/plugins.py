"""Loading plugins with pluggy and keeping each one's failures to itself.

`load_registry()` is the factory: it builds a fresh plugin manager (no global), loads every
entry point of the `translator.plugins` group, each under its own guard, and collects the
translators. A plugin that fails to import, misspells a hook, raises in a hook (anything but
Ctrl+C, `SystemExit` included) or returns the wrong type from one is marked broken with its error;
the others keep working. A plugin that declares a newer plugin API than this Translator's
(`TRANSLATOR_API = N` above `hookspecs.API_VERSION`) is refused with one line saying so. Built-in
plugins load first and win name clashes; the third-party plugin is reported. Each broken plugin
is logged in one line; `translator plugins` shows the detail.

Hooks are called through pluggy with their declared result rules. pluggy stops a hook call at the
first exception an implementation raises, which would let one plugin's bug hide every other
plugin's answer; so `Registry.register` wraps each implementation (`HookImpl.function`, which
pluggy's caller invokes) in a guard that turns an exception into "no answer" (None) and marks
that plugin broken. pluggy then goes on as its rules say (firstresult: the next plugin is asked).
The collecting hooks (`translator_translators`, `translator_model_catalog`, `translator_samples`)
are called one implementation at a time (`get_hookimpls()`): each result is credited to its plugin.
"""
from __future__ import annotations

import contextvars
import functools
import importlib.metadata as metadata
import logging
import os
import re
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy

from translator import hookspecs
from translator.checkpoints import CheckpointClaim, CheckpointFile, ImportContext
from translator.errors import CheckpointError, PluginError, TranslatorError
from translator.samples import Sample, checked_samples
from translator.spec import TranslatorSpec

log = logging.getLogger(__name__)

PROJECT = "translator"
ENTRY_POINT_GROUP = "translator.plugins"
DISTRIBUTION = "image-translator"
AUTOLOAD_ENV = "TRANSLATOR_DISABLE_PLUGIN_AUTOLOAD"
API_ATTRIBUTE = "TRANSLATOR_API"
"""Module attribute in which a plugin declares the plugin API version it is written for."""
PASSED_ON: dict[str, tuple[type[BaseException], ...]] = {"translator_claim_checkpoint": (TranslatorError,)}
"""Exceptions a hook may raise on purpose, by hook: they reach the caller (the claim hook's
`CheckpointError` means "the file is mine but unusable") instead of marking the plugin broken."""


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
    detail: str | None = None
    """The traceback (or longer explanation) behind `error`, for `translator plugins`."""
    api: int | None = None
    """The plugin API version it declares (`TRANSLATOR_API`), None when it declares none."""

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
            "api": self.api,
            "status": "broken" if self.broken else "ok",
            "error": self.error,
            "detail": self.detail,
        }


_ASKED: contextvars.ContextVar[str | None] = contextvars.ContextVar("translator_asked_plugin", default=None)
"""The only plugin a hook call asks (in this thread), or None for all of them."""


class Registry:
    """The loaded plugins and the translators they contribute."""

    STRIKES = 3
    """Failures in a row (while translating) after which a plugin is marked broken."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self._translators: dict[str, TranslatorSpec] = {}
        self._owner: dict[str, str] = {}
        self._strikes: dict[str, int] = {}

    # -- loading -----------------------------------------------------------------------------

    def register(self, plugin: object, name: str, *, version: str = "", source: str = "local",
                 module: str | None = None) -> PluginInfo:
        """Register a plugin object or module and collect its translators, never raising."""
        info = PluginInfo(name=name, version=version, source=source,
                          module=module or getattr(plugin, "__name__", type(plugin).__name__))
        self.plugins[name] = info
        declared = getattr(plugin, API_ATTRIBUTE, None)
        problem = _api_problem(name, declared)
        if problem is not None:
            self._set_broken(info, problem)
            return info
        info.api = declared
        try:
            self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            self._set_broken(info, f"could not register: {_validation_message(exc, declared)}", exc)
            return info
        except BaseException as exc:  # noqa: BLE001 - any failure marks only this plugin broken
            _reraise_interrupt(exc)
            self._set_broken(info, f"could not register: {exc}", exc)
            return info
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(name=name)
            self._set_broken(info, f"unknown hook (misspelt?): {exc}")
            return info
        callers = [c for c in self.pm.get_hookcallers(plugin) or () if c.name.startswith("translator_")]
        info.hooks = sorted(caller.name for caller in callers)
        for caller in callers:
            for impl in caller.get_hookimpls():
                if impl.plugin_name == name:
                    impl.function = self._guarded(name, caller.name, impl.function)
        self._collect_translators(name, info)
        return info

    def _guarded(self, plugin: str, hook: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """`function` (one plugin's implementation of `hook`) made safe for pluggy's caller.

        It answers None once the plugin is broken or while another plugin is asked (`_ASKED`);
        an exception (but Ctrl+C and `PASSED_ON[hook]`) or an unusable claim marks the plugin
        broken and answers None, so pluggy asks the next plugin."""
        passed_on = PASSED_ON.get(hook, ())

        @functools.wraps(function)
        def guarded(*args: Any) -> Any:
            if self.plugins[plugin].broken or _ASKED.get() not in (None, plugin):
                return None
            try:
                result = function(*args)
            except passed_on:
                raise
            except BaseException as exc:  # noqa: BLE001 - kept to this plugin
                _reraise_interrupt(exc)
                self.mark_broken(plugin, exc)
                return None
            if hook == "translator_claim_checkpoint" and result is not None:
                try:
                    problem = _claim_problem(result, self._translators)
                except BaseException as exc:  # noqa: BLE001 - a result whose attributes raise
                    _reraise_interrupt(exc)
                    problem = f"returned an unusable claim ({_describe(exc)})"
                if problem is not None:
                    self.mark_broken(plugin, PluginError(f"{hook} {problem}"))
                    return None
            return result

        return guarded

    def _collect_translators(self, name: str, info: PluginInfo) -> None:
        for impl in self.pm.hook.translator_translators.get_hookimpls():
            if impl.plugin_name != name:
                continue
            try:
                specs = list(impl.function() or ())  # None also when it raised (see `_guarded`)
                if info.broken:
                    return
                for spec in specs:
                    self._check_spec(spec)
                names = [spec.name for spec in specs]
                if len(set(names)) != len(names):
                    raise PluginError(f"translator_translators returned the same name twice: {names}")
            except BaseException as exc:  # noqa: BLE001
                _reraise_interrupt(exc)
                self.mark_broken(name, exc)
                return
            taken = [spec.name for spec in specs if spec.name in self._translators]
            if taken:
                owner = self.plugins.get(self._owner[taken[0]])
                where = f" ({owner.source})" if owner is not None else ""
                self._set_broken(info, f"translator {taken[0]!r} is already provided by plugin "
                                       f"{self._owner[taken[0]]!r}{where}; not loaded")
                return
            for spec in specs:
                self._translators[spec.name] = spec
                self._owner[spec.name] = name
                info.translators.append(spec.name)

    @staticmethod
    def _check_spec(spec: object) -> None:
        if not isinstance(spec, TranslatorSpec):
            raise PluginError(f"translator_translators returned {type(spec).__name__}, not TranslatorSpec")
        if spec.size_multiple < 1:
            raise PluginError(f"translator {spec.name!r}: size_multiple must be >= 1")

    def load_entry_points(self, *, third_party: bool = True) -> None:
        """Load every `translator.plugins` entry point, each under its own guard: the built-in
        ones first, so that they win name clashes (the third-party plugin is then reported)."""
        entries = []
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist
            dist_name = dist.metadata["Name"] if dist is not None else ""
            builtin = _canonical(dist_name) == _canonical(DISTRIBUTION)
            if builtin or third_party:
                entries.append((not builtin, ep.name, dist_name, ep))
        for third, _, dist_name, ep in sorted(entries, key=lambda e: e[:3]):
            dist = ep.dist
            version = dist.version if dist is not None else ""
            source = "package" if third else "built-in"
            if ep.name in self.plugins:
                if self.plugins[ep.name].module == ep.value:
                    continue  # the same distribution seen twice on sys.path
                key = f"{ep.name} ({dist_name or ep.value})"
                info = PluginInfo(name=key, version=version, source=source, module=ep.value)
                self.plugins[key] = info
                holder = self.plugins[ep.name].source
                self._set_broken(info, f"plugin name {ep.name!r} is taken by the {holder} plugin of that "
                                       f"name; not loaded")
                continue
            try:
                plugin = ep.load()
            except BaseException as exc:  # noqa: BLE001 - a broken plugin must not stop the others
                _reraise_interrupt(exc)
                info = PluginInfo(name=ep.name, version=version, source=source, module=ep.value)
                self.plugins[ep.name] = info
                self._set_broken(info, f"import failed: {_describe(exc)}", exc)
                continue
            self.register(plugin, ep.name, version=version, source=source, module=ep.value)

    # -- failures ----------------------------------------------------------------------------

    def mark_broken(self, plugin: str, exc: BaseException) -> None:
        """Mark a plugin broken (after it raised) and withdraw its translators."""
        info = self.plugins.get(plugin)
        if info is None:
            return
        self._set_broken(info, _describe(exc), exc)

    def plugin_failed(self, plugin: str, exc: BaseException) -> bool:
        """Count a failure of `plugin` while translating one input; after `STRIKES` in a row it
        is marked broken. Returns True when this failure marked it broken."""
        info = self.plugins.get(plugin)
        if info is None or info.broken:
            return False
        self._strikes[plugin] = self._strikes.get(plugin, 0) + 1
        if self._strikes[plugin] >= self.STRIKES:
            self.mark_broken(plugin, exc)
            return True
        return False

    def plugin_succeeded(self, plugin: str) -> None:
        """A translation by `plugin` worked: its count of failures in a row starts again."""
        self._strikes.pop(plugin, None)

    def _set_broken(self, info: PluginInfo, error: str, exc: BaseException | None = None) -> None:
        """Record why a plugin is broken (one line; the traceback as detail), log it in one line
        and withdraw its translators."""
        info.error = _one_line(error)
        if exc is not None:
            info.detail = "".join(traceback.format_exception(exc)).rstrip()
        elif error != info.error:
            info.detail = error
        log.warning("plugin %s is broken: %s (details: `translator plugins`)", info.name, info.error)
        if exc is not None:
            log.debug("plugin %s:\n%s", info.name, info.detail)
        for name in info.translators:
            if self._owner.get(name) == info.name:
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
        """The first claim of a foreign weights file (`translator_claim_checkpoint`, firstresult),
        asking only `plugin` (a plugin or translator name) when one is given.

        Raises `CheckpointError` when no plugin recognises the file (with the failures of plugins
        that broke while asked), or the plugin's own `TranslatorError` for a file it refuses.
        """
        context = context or ImportContext()
        hook = self.pm.hook.translator_claim_checkpoint
        asked, name = "any installed plugin", None
        if plugin is not None:
            name = self._plugin_name_for(plugin)
            if self.plugins[name].broken:
                raise CheckpointError(f"{checkpoint.path.name}: plugin {name!r} is broken: "
                                      f"{self.plugins[name].error}")
            asked = f"plugin {name!r}"
        was_broken = {n for n, info in self.plugins.items() if info.broken}
        # Asking one plugin: the other plugins' guards answer None without calling them (pluggy's
        # `subset_hook_caller` would do it too, but needs hashable plugin objects).
        token = _ASKED.set(name)
        try:
            claim = hook(checkpoint=checkpoint, context=context)
        finally:
            _ASKED.reset(token)
        if claim is not None:
            return claim
        failed = [f"plugin {n!r} failed: {info.error}" for n, info in self.plugins.items()
                  if info.broken and n not in was_broken]
        detail = f" ({'; '.join(failed)})" if failed else ""
        raise CheckpointError(f"{checkpoint.path.name}: not recognised by {asked}{detail}")

    def model_catalog(self) -> list[tuple[str, list[Any]]]:
        """(plugin name, its `translator_model_catalog()` list) for each working plugin; a plugin
        whose hook raises is marked broken and left out. `translator.catalog` checks the entries."""
        return self._collected("translator_model_catalog")

    def samples(self) -> list[tuple[str, Sample]]:
        """(plugin name, sample) for each usable entry of the working plugins'
        `translator_samples()`. A plugin whose hook raises or returns something other than
        `Sample`s is marked broken; an entry for an unknown translator, with a missing file or
        bad params is left out and logged."""
        results = []
        for plugin, items in self._collected("translator_samples"):
            try:
                usable, problems = checked_samples(plugin, items, self._translators)
            except PluginError as exc:
                self.mark_broken(plugin, exc)
                continue
            for problem in problems:
                log.warning("%s", problem)
            results.extend((plugin, sample) for sample in usable)
        return results

    def _collected(self, hook: str) -> list[tuple[str, list[Any]]]:
        """(plugin name, the list its `hook` returned) for each working plugin implementing a
        list-returning hook; a plugin whose hook raises is marked broken and left out."""
        results = []
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            info = self.plugins.get(impl.plugin_name)
            if info is None or info.broken:
                continue
            try:
                entries = list(impl.function() or ())  # None also when it raised (see `_guarded`)
            except Exception as exc:  # noqa: BLE001 - a broken hook marks only its plugin
                self.mark_broken(impl.plugin_name, exc)
                continue
            if not info.broken:
                results.append((impl.plugin_name, entries))
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


# -- keeping a plugin's failures to itself -------------------------------------------------------

def _reraise_interrupt(exc: BaseException) -> None:
    """Ctrl+C still stops the program; anything else a plugin raises (`SystemExit`, odd
    `BaseException` subclasses) is kept to that plugin."""
    if isinstance(exc, KeyboardInterrupt):
        raise exc


def _describe(exc: BaseException) -> str:
    """`Type: message` on one line."""
    return _one_line(f"{type(exc).__name__}: {exc}")


def _one_line(text: str, limit: int = 300) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    line = lines[0] if lines else ""
    if len(lines) > 1:
        line += " ..."
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _api_problem(plugin: str, declared: object) -> str | None:
    """Why a plugin declaring `TRANSLATOR_API = declared` cannot load here, or None."""
    if declared is None:
        return None
    if isinstance(declared, bool) or not isinstance(declared, int) or declared < 1:
        return f"{API_ATTRIBUTE} = {declared!r:.40} is not a plugin API version (a whole number from 1)"
    if declared > hookspecs.API_VERSION:
        return (f"plugin {plugin} needs Translator plugin API {declared}, this Translator has "
                f"{hookspecs.API_VERSION}; upgrade Translator or install an older version of the plugin")
    return None


def _validation_message(exc: pluggy.PluginValidationError, declared: object) -> str:
    """pluggy's complaint about a hook implementation on one line, with a hint for plugins
    written for an older plugin API."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] + (f": {lines[-1]}" if len(lines) > 1 else "")
    if declared != hookspecs.API_VERSION:
        written = f"plugin API {declared}" if declared is not None else "an older plugin API"
        text += (f" (written for {written}? this Translator has plugin API {hookspecs.API_VERSION}; "
                 "see 'API versions' in docs/plugins.md)")
    return text


def _claim_problem(claim: object, translators: Mapping[str, TranslatorSpec]) -> str | None:
    """What is wrong with a claim hook's result, or None when it is a usable claim."""
    if not isinstance(claim, CheckpointClaim):
        return f"returned {type(claim).__name__}, not CheckpointClaim"
    if not isinstance(claim.translator, str) or claim.translator not in translators:
        return f"claimed the file for unknown translator {claim.translator!r}"
    if not translators[claim.translator].weights:
        return f"claimed the file for {claim.translator!r}, a filter without weights"
    return None
