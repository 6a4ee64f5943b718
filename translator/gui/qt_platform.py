"""First-run help when Qt's platform plugin cannot start: one line naming what is missing.

On a fresh Linux system PySide6's `xcb` plugin often lacks a system library (`libxcb-cursor0`,
`libxcb-icccm4`, ...); Qt then prints several lines and aborts. `check_platform_plugin()` finds
this before Qt tries (it loads the plugin file as Qt would and reads the loader's error)
and raises `QtPlatformError` with the library and the Debian/Ubuntu and Fedora packages that
provide it. `create_application()` also catches what only Qt itself can find out (no display):
Qt's fatal message is replaced by the same kind of single line, and the process exits with
`EXIT_STATUS`, because Qt ends the process right after a fatal message.
"""
from __future__ import annotations

import ctypes
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from translator.errors import TranslatorError

EXIT_STATUS = 2
"""Exit status after Qt's fatal start-up error (the CLI's "bad usage or setup")."""

# Shared library -> (Debian/Ubuntu package, Fedora package), for what Qt's Linux plugins need.
LIBRARY_PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-xinerama.so.0": ("libxcb-xinerama0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libSM.so.6": ("libsm6", "libSM"),
    "libICE.so.6": ("libice6", "libICE"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libwayland-client.so.0": ("libwayland-client0", "libwayland-client"),
    "libwayland-cursor.so.0": ("libwayland-cursor0", "libwayland-cursor"),
    "libwayland-egl.so.1": ("libwayland-egl1", "libwayland-egl"),
}
_MISSING = re.compile(r"^(?P<lib>[^\s:]+\.so[.\d]*): cannot open shared object file")
_QT_NAMES = re.compile(r'platform plugin "(?P<name>[^"]+)"')


class QtPlatformError(TranslatorError):
    """Qt's platform plugin cannot start; the message says what to install or set."""


def missing_library_message(library: str, platform: str = "xcb") -> str:
    """One line naming a missing shared library and the packages that provide it."""
    head = f'the Qt platform plugin "{platform}" needs the system library {library}, which is missing'
    packages = LIBRARY_PACKAGES.get(library)
    if packages is None:
        return (f"{head}; find its package with `apt-file search {library}` (Debian/Ubuntu) or "
                f"`dnf provides '*/{library}'` (Fedora)")
    debian, fedora = packages
    return (f"{head}: install it with `sudo apt install {debian}` (Debian/Ubuntu) or "
            f"`sudo dnf install {fedora}` (Fedora)")


def missing_library(loader_error: str) -> str | None:
    """The library named by a dynamic loader error ("libX.so.0: cannot open shared object file")."""
    match = _MISSING.match(loader_error.strip())
    return match.group("lib") if match else None


def requested_platform(env: dict[str, str] | os._Environ[str] | None = None) -> str | None:
    """The platform plugin Qt will try first on Linux: `QT_QPA_PLATFORM`, else wayland in a
    Wayland session, else xcb. None on other systems (their plugins need no extra libraries)."""
    env = os.environ if env is None else env
    explicit = env.get("QT_QPA_PLATFORM", "").strip()
    if explicit:
        return explicit.split(";")[0].split(":")[0].strip() or None
    if not sys.platform.startswith("linux"):
        return None
    if env.get("XDG_SESSION_TYPE") == "wayland" and env.get("WAYLAND_DISPLAY"):
        return "wayland"
    return "xcb"


def plugin_folders(env: dict[str, str] | os._Environ[str] | None = None) -> list[Path]:
    """Where Qt looks for platform plugins, in order."""
    env = os.environ if env is None else env
    folders = [Path(p) for p in env.get("QT_QPA_PLATFORM_PLUGIN_PATH", "").split(os.pathsep) if p]
    roots = [p for p in env.get("QT_PLUGIN_PATH", "").split(os.pathsep) if p]
    roots.append(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    folders += [Path(root) / "platforms" for root in roots]
    return folders


def check_platform_plugin(platform: str | None = None, folders: Sequence[Path] | None = None) -> None:
    """Raise `QtPlatformError` when the platform plugin Qt is about to load cannot load.

    Linux only (elsewhere it returns at once). Loads the plugin's shared library, as Qt would, to
    see whether a system library is missing; a plugin file it does not find is left to Qt.
    """
    if not sys.platform.startswith("linux"):
        return
    platform = platform or requested_platform()
    if not platform:
        return
    folders = plugin_folders() if folders is None else list(folders)
    candidates = [folder / f"libq{platform}.so" for folder in folders]
    plugin = next((path for path in candidates if path.is_file()), None)
    if plugin is None:  # several names can share one file (wayland-egl); Qt's own error covers it
        return
    try:
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        library = missing_library(str(exc))
        if library is not None:
            raise QtPlatformError(missing_library_message(library, platform)) from None
        raise QtPlatformError(f'the Qt platform plugin "{platform}" ({plugin}) cannot load: {exc}') from None


def describe_fatal(messages: Sequence[str], env: dict[str, str] | os._Environ[str] | None = None) -> str:
    """One line for Qt's fatal start-up error, from the messages Qt logged before it."""
    env = os.environ if env is None else env
    text = "\n".join(messages)
    names = _QT_NAMES.findall(text)
    platform = names[0] if names else (requested_platform(env) or "default")
    # Qt adds its xcb-cursor hint to every xcb failure, a missing display included: that first
    if "could not connect to display" in text or (platform == "xcb" and not env.get("DISPLAY")):
        return (f'the Qt platform plugin "{platform}" cannot connect to a display (DISPLAY='
                f'{env.get("DISPLAY", "")!r}); start Translator in a desktop session, or set '
                "QT_QPA_PLATFORM=offscreen for --screenshot")
    if "xcb-cursor" in text:
        return missing_library_message("libxcb-cursor.so.0", platform)
    if "Could not find the Qt platform plugin" in text:
        return (f'the Qt platform plugin "{platform}" was not found; check QT_QPA_PLATFORM and '
                "QT_QPA_PLATFORM_PLUGIN_PATH, or reinstall PySide6")
    last = next((m.strip().splitlines()[0] for m in reversed(messages) if m.strip()), "no details")
    return f'the Qt platform plugin "{platform}" could not start: {last}'


def create_application(argv: Sequence[str]) -> QApplication:
    """A new QApplication, after `check_platform_plugin()` (which raises `QtPlatformError`).

    While Qt starts, its messages about the platform plugin are held back; if it then fails
    fatally, one line from `describe_fatal` goes to stderr and the process exits with
    `EXIT_STATUS` (Qt would abort right after the message handler returns).
    """
    check_platform_plugin()
    held: list[str] = []

    def handler(kind: QtMsgType, context: object, message: str) -> None:
        if kind == QtMsgType.QtFatalMsg:
            sys.stdout.flush()
            sys.stderr.write(f"translator: error: {describe_fatal([*held, message])}\n")
            sys.stderr.flush()
            os._exit(EXIT_STATUS)
        if getattr(context, "category", "") == "qt.qpa.plugin" or "platform plugin" in message \
                or "display" in message:
            held.append(message)
        else:
            sys.stderr.write(message + "\n")

    previous = qInstallMessageHandler(handler)
    try:
        return QApplication(list(argv))
    finally:
        qInstallMessageHandler(previous)
