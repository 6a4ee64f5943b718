"""`translator`: the app by default, and the headless subcommands.

    translator [IMAGE_OR_FOLDER ...] [--screenshot OUT.png [--plugin NAME] [--param K=V]]
                                                                start the desktop app
    translator --version                                        app, torch, Qt and device versions
    translator --install-desktop-entry | --uninstall-desktop-entry   menu entry and icon (Linux)
    translator plugins [--json]                                 list plugins and translators
    translator models list|import|remove|available|get ...      manage the model store and catalog
    translator apply --plugin NAME ... INPUT... -o OUTDIR       run a translator over files

Only this module chooses exit codes: 0 success, 1 some inputs failed, 2 bad usage or setup.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from translator.errors import TranslatorError
from translator.params import parse_assignments

SUBCOMMANDS = ("plugins", "models", "apply")


class _VersionAction(argparse.Action):
    """`--version`: the app, torch, Qt and device versions (imported only when asked)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="print the app, torch, Qt and device versions and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        from translator.gui.about import version_report

        print(version_report())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="translator",
        description="Image-to-image translation with GANs. Without a subcommand, starts the app.",
    )
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    from translator.cli import apply, models, plugins

    plugins.add_parser(sub)
    models.add_parser(sub)
    apply.add_parser(sub)
    return parser


def build_app_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="translator",
        description="Start the Translator desktop app. Subcommands: " + ", ".join(SUBCOMMANDS)
        + " (see `translator COMMAND --help`).",
    )
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    parser.add_argument("paths", nargs="*", metavar="IMAGE_OR_FOLDER", help="images to open")
    parser.add_argument("--screenshot", metavar="OUT.png",
                        help="open the images, run the current translator once, save a PNG of the "
                             "window and exit")
    parser.add_argument("--plugin", metavar="NAME",
                        help="with --screenshot: the translator to run (a translator or plugin name)")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="with --screenshot: a parameter of that translator (repeatable)")
    desktop = parser.add_mutually_exclusive_group()
    desktop.add_argument("--install-desktop-entry", action="store_true",
                         help="add Translator to the desktop's menu and 'Open with' (Linux, this user)")
    desktop.add_argument("--uninstall-desktop-entry", action="store_true",
                         help="remove what --install-desktop-entry added")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose, rest = _take_verbose(argv)
    if rest and rest[0] in SUBCOMMANDS:
        args = build_parser().parse_args(rest)
        _setup_logging(verbose)
        try:
            return int(args.run(args) or 0)
        except BrokenPipeError:  # `translator plugins --json | head`: the reader left, not an error
            _silence_stdout()
            return 0
        except TranslatorError as exc:
            print(f"translator: error: {exc}", file=sys.stderr)
            return 2
        except OSError as exc:  # a file system failure no check foresaw: one line, not a traceback
            where = f"{exc.filename}: " if exc.filename else ""
            print(f"translator: error: {where}{exc.strerror or exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("translator: interrupted", file=sys.stderr)
            return 130
    parser = build_app_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    if (args.plugin or args.param) and not args.screenshot:
        parser.error("--plugin and --param go with --screenshot")
    try:
        if args.install_desktop_entry or args.uninstall_desktop_entry:
            return _desktop_entry(install=args.install_desktop_entry)
        from translator.gui.app import run_app

        params = parse_assignments(args.param)
        return int(run_app(args.paths, screenshot=args.screenshot, translator=args.plugin, params=params) or 0)
    except TranslatorError as exc:  # e.g. Qt's platform plugin misses a system library
        print(f"translator: error: {exc}", file=sys.stderr)
        return 2


def _desktop_entry(*, install: bool) -> int:
    from translator import desktop

    if install:
        written = desktop.install_desktop_entry()
        print(f"installed {written[0]} and the icon under {desktop.data_home() / 'icons' / 'hicolor'}")
    else:
        removed = desktop.uninstall_desktop_entry()
        print(f"removed {len(removed)} files" if removed else "no desktop entry was installed")
    return 0


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit raises no second BrokenPipeError."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _take_verbose(argv: list[str]) -> tuple[bool, list[str]]:
    """(-v/--verbose given anywhere before `--`, argv without them), so that `-v` works before
    and after a subcommand."""
    end = argv.index("--") if "--" in argv else len(argv)
    flags = [a for a in argv[:end] if a in ("-v", "--verbose")]
    if not flags:
        return False, argv
    return True, [a for a in argv[:end] if a not in ("-v", "--verbose")] + argv[end:]


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
