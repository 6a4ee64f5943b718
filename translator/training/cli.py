"""`translator-train --plugin NAME ...`: train or fine-tune a translator.

Two-stage parsing: `--plugin` (or the run named by `--resume`) is read first, so that the
plugin's data options, its defaults and its own options appear in `--help`. Only this module
chooses exit codes: 0 done, 1 training diverged (NaN losses; the last good checkpoint is kept),
2 bad usage or setup, 130 stopped by Ctrl+C (checkpoint saved).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from translator.errors import ParameterError, PluginError, TranslatorError
from translator.params import Bool, Choice, Param
from translator.training.config import DEVICES, PRECISIONS, RESUMABLE, TrainConfig
from translator.training.context import OPTIMIZERS
from translator.training.loop import Diverged
from translator.training.losses import GAN_LOSSES
from translator.training.spec import DataKind, TrainingSpec

if TYPE_CHECKING:
    from translator.plugins import Registry
    from translator.spec import TranslatorSpec

PROG = "translator-train"


def _first_stage() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, add_help=False)
    parser.add_argument("--plugin")
    parser.add_argument("--resume", nargs="?", const="")
    parser.add_argument("--out")
    parser.add_argument("-h", "--help", action="store_true")
    return parser


def build_parser(spec: TranslatorSpec | None) -> argparse.ArgumentParser:
    """The full parser; with `spec`, its data options, paper defaults and plugin options.

    Every option defaults to None, so that what was given can be told from what was not
    (`resolve` fills in the defaults shown in the help).
    """
    training = spec.training if spec is not None else None
    title = f" {spec.name}" if spec is not None else ""
    parser = argparse.ArgumentParser(
        prog=PROG, description=f"Train or fine-tune{title} on your images. Runs are saved in --out "
        "(default: $TRANSLATOR_HOME/runs or the user data dir), the final model in the model store.")
    run = parser.add_argument_group("run")
    run.add_argument("--plugin", required=spec is None, help="the translator to train (see `translator plugins`)")
    run.add_argument("--name", help="run name: folder under --out and the exported model's name "
                     "(default: PLUGIN-DATE-TIME)")
    run.add_argument("--from", dest="init", metavar="bundled|scratch|MODEL",
                     help="start from the bundled model (fine-tuning; default when the plugin has one), "
                          "from scratch, or from a model of the store")
    run.add_argument("--resume", nargs="?", const="", metavar="RUN_NAME",
                     help="continue a stopped run (default: the latest one) with its saved options")
    run.add_argument("--out", metavar="DIR", help="folder of the runs")
    length = run.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, metavar="N", help=f"generator steps (default: {_d(training, 'steps')})")
    length.add_argument("--epochs", type=int, metavar="N", help="passes over the largest image folder instead of --steps")
    run.add_argument("--decay-steps", type=int, metavar="N", help="last steps over which the learning rate decays "
                     f"linearly to 0 (default: {_d(training, 'decay_fraction'):g} of the steps)")
    run.add_argument("--time-limit", type=float, metavar="MINUTES",
                     help="wall-clock budget: the run ends and exports when the time is up or the steps are "
                          "done, whichever comes first; the learning-rate decay follows the time too")
    run.add_argument("--device", help=f"{'|'.join(DEVICES)}|cuda:N (default: auto)")
    run.add_argument("--precision", choices=PRECISIONS,
                     help="mixed precision on CUDA: auto is bf16 where supported, else fp16 (default: auto)")
    run.add_argument("--no-channels-last", dest="channels_last", action="store_const", const=False,
                     help="keep the default memory layout on CUDA")
    run.add_argument("--seed", type=int, metavar="S", help="random seed (default: 0)")
    run.add_argument("--sample-every", type=int, metavar="N", help="write a sample grid every N steps (default: 500)")
    run.add_argument("--save-every", type=int, metavar="N", help="write a checkpoint every N steps (default: 1000)")
    run.add_argument("--workers", type=int, metavar="N", help="image decoding processes (default: min(4, available cores - 1))")
    run.add_argument("--quiet", action="store_const", const=True, help="no progress bar")
    run.add_argument("--progress-jsonl", metavar="FILE", help="append machine-readable progress to FILE, one "
                     "JSON object per line (events start, step, sample, end; see translator.training.monitor)")
    run.add_argument("--stop-file", metavar="FILE", help="stop after the current step, saving a checkpoint "
                     "(as on Ctrl+C), once FILE exists")
    run.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")

    data = parser.add_argument_group("data")
    kind = training.data if training is not None else None
    if kind in (None, DataKind.UNPAIRED):
        data.add_argument("--data-a", metavar="DIR", help="images of domain A (unpaired data)")
        data.add_argument("--data-b", metavar="DIR", help="images of domain B (unpaired data)")
    if kind in (None, DataKind.PAIRED, DataKind.SINGLE):
        data.add_argument("--data", metavar="DIR", help="paired: A/ and B/ with matching file names, or "
                          "side-by-side AB images; single: a folder of images")
    if kind in (None, DataKind.PAIRED):
        data.add_argument("--direction", choices=("AtoB", "BtoA"), help="paired data: which side is the "
                          "input (default: AtoB)")
    data.add_argument("--size", type=int, metavar="PX", help=f"training crop in pixels (default: {_d(training, 'size')})")
    data.add_argument("--load-size", type=int, metavar="PX", help="shorter side before the random crop "
                      "(default: size * 286 / 256)")
    data.add_argument("--no-flip", dest="flip", action="store_const", const=False, help="no random mirroring")
    data.add_argument("--batch-size", type=int, metavar="B", help=f"images per step and process "
                      f"(default: {_d(training, 'batch_size')})")

    optim = parser.add_argument_group("optimisation (shared by every plugin)")
    optim.add_argument("--lr", type=float, metavar="LR", help=f"learning rate (default: {_d(training, 'lr'):g})")
    optim.add_argument("--betas", type=float, nargs=2, metavar=("B1", "B2"),
                       help=f"Adam betas (default: {' '.join(f'{b:g}' for b in _d(training, 'betas'))})")
    optim.add_argument("--optimizer", choices=OPTIMIZERS, help=f"(default: {_d(training, 'optimizer')})")
    optim.add_argument("--gan-loss", choices=GAN_LOSSES,
                       help=f"adversarial loss (default: {_d(training, 'gan_loss')}, the paper's)")
    optim.add_argument("--d-steps", type=int, metavar="K",
                       help=f"discriminator updates per generator update (default: {_d(training, 'd_steps')})")

    if training is not None and training.options:
        group = parser.add_argument_group(f"{spec.name} options")
        for param in training.options:
            _add_param(group, param)
    if training is not None and architecture_options(spec):
        group = parser.add_argument_group(
            f"{spec.name} architecture (from scratch" + (f"; fine-tuning may change {', '.join(training.fine_tune_options)}"
                                                        if training.fine_tune_options else "") + ")")
        for param in architecture_options(spec):
            _add_param(group, param, dest=f"config__{param.name}",
                       default=training.scratch_config.get(param.name, param.default_value))
    return parser


def architecture_options(spec: TranslatorSpec) -> tuple[Param, ...]:
    """The `TranslatorSpec.config` parameters `translator-train` offers (`TrainingSpec.architecture_options`)."""
    if spec.training is None:
        return ()
    offered = spec.training.architecture_options
    return tuple(p for p in spec.config if offered is None or p.name in offered)


def _d(training: Any, name: str) -> Any:
    """The plugin's default of a shared option, else `translator-train`'s own (`TrainingSpec`'s)."""
    return getattr(training if training is not None else TrainingSpec, name)


def _flag(param: Param) -> str:
    return "--" + param.name.replace("_", "-")


def _add_param(group: argparse._ArgumentGroup, param: Param, *, dest: str = "", default: Any = None) -> None:
    def convert(text: str) -> Any:
        try:
            return param.parse(text)
        except ParameterError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    extra: dict[str, Any] = {"metavar": {"int": "N", "float": "X", "seed": "SEED"}.get(param.kind, "VALUE")}
    if isinstance(param, Choice):
        del extra["metavar"]
        extra["choices"] = param.choices
    elif isinstance(param, Bool):
        extra["metavar"] = "true|false"
    shown = param.default_value if default is None else default
    if isinstance(shown, (tuple, list)):
        shown = ",".join(str(v) for v in shown)
    help_text = f"{param.help} (default: {shown})".strip()
    try:
        group.add_argument(_flag(param), dest=dest or f"plugin__{param.name}", type=convert, help=help_text, **extra)
    except argparse.ArgumentError as exc:
        raise PluginError(f"training option {param.name!r} clashes with a shared option: {exc}") from exc


def resolve(args: argparse.Namespace, spec: TranslatorSpec, plugin: str) -> TrainConfig:
    """Options given on the command line completed with the plugin's and the engine's defaults."""
    training = spec.training
    assert training is not None
    given = {k: v for k, v in vars(args).items() if v is not None and not k.startswith(("plugin__", "config__"))}
    plugin_options = {}
    for param in training.options:
        value = getattr(args, f"plugin__{param.name}", None)
        plugin_options[param.name] = param.default_value if value is None else value
    values: dict[str, Any] = {
        "plugin": plugin, "steps": training.steps, "batch_size": training.batch_size, "size": training.size,
        "lr": training.lr, "betas": tuple(training.betas), "optimizer": training.optimizer,
        "gan_loss": training.gan_loss, "d_steps": training.d_steps,
    }
    for key in ("name", "init", "steps", "epochs", "decay_steps", "device", "precision", "channels_last",
                "seed", "sample_every", "save_every", "workers", "quiet", "data", "data_a", "data_b",
                "direction", "size", "load_size", "flip", "batch_size", "lr", "optimizer", "gan_loss",
                "d_steps", "out", "time_limit"):
        if key in given:
            values[key] = given[key]
    if "betas" in given:
        values["betas"] = tuple(given["betas"])
    if "epochs" in given:
        values["steps"] = 0
    if not values.get("name"):
        values["name"] = f"{spec.name}-{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
    values["plugin_options"] = plugin_options
    values["config_options"] = {p.name: getattr(args, f"config__{p.name}") for p in architecture_options(spec)
                                if getattr(args, f"config__{p.name}", None) is not None}
    return TrainConfig(**values).validate()


def _find_run(out: str | None, name: str, plugin: str | None) -> tuple[str, dict[str, Any]]:
    """The run to resume (by name, else the latest with a checkpoint) and its saved options."""
    from translator.training.checkpoint import CHECKPOINT_NAME
    from translator.training.loop import runs_dir

    from translator.training.config import RUN_NAME

    root = runs_dir(out)
    if name and not RUN_NAME.fullmatch(name):
        raise TranslatorError(f"--resume {name[:120]!r}: not a run name (letters, digits, '.', '_', '-')")
    if name:
        candidates = [root / name]
    else:
        candidates = sorted((p.parent for p in root.glob(f"*/{CHECKPOINT_NAME}")),
                            key=lambda p: (p / CHECKPOINT_NAME).stat().st_mtime, reverse=True)
    for folder in candidates:
        options = folder / "options.json"
        if (folder / CHECKPOINT_NAME).is_file() and options.is_file():
            saved = json.loads(options.read_text(encoding="utf-8"))["options"]
            if name or plugin is None or saved.get("plugin") == plugin:
                return folder.name, saved
    where = f"{root / name}" if name else f"{root}"
    raise TranslatorError(f"no run to resume in {where} (a run folder needs last.pt and options.json)")


def main(argv: Sequence[str] | None = None, *, registry: Registry | None = None) -> int:
    """Entry point of `translator-train` (and `python -m translator.training`)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    first, _ = _first_stage().parse_known_args(argv)
    try:
        saved: dict[str, Any] | None = None
        run_name = ""
        if first.resume is not None and not first.help:
            run_name, saved = _find_run(first.out, first.resume, first.plugin)
        plugin = first.plugin or (saved or {}).get("plugin")
        if plugin is None:
            build_parser(None).parse_args(argv)  # prints help or the "--plugin is required" error
            return 2
        if registry is None:
            from translator.plugins import load_registry

            registry = load_registry()
        spec = registry.translator(plugin)
        if spec.training is None:
            trainable = sorted(n for n, s in registry.translators.items() if s.training is not None)
            raise PluginError(f"{spec.name} cannot be trained; trainable: {', '.join(trainable) or 'none'}")
    except TranslatorError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    args = build_parser(spec).parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    del args.verbose
    progress = Path(args.progress_jsonl) if args.progress_jsonl else None
    stop_file = Path(args.stop_file) if args.stop_file else None
    try:
        if saved is not None:
            config = TrainConfig.from_dict(saved)
            for key in RESUMABLE:
                value = getattr(args, key, None)
                if value is not None:
                    setattr(config, key, value)
            if args.steps is not None:
                config.epochs = None
            config.name = run_name
            config.out = first.out or config.out
            config.validate()
        else:
            config = resolve(args, spec, spec.name)
        from translator.store import ModelStore
        from translator.training.loop import train

        result = train(spec, config, ModelStore(registry), plugin_name=registry.owner(spec.name),
                       resume=saved is not None, argv=argv, progress=progress, stop_file=stop_file)
    except Diverged as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except TranslatorError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file system failure no check foresaw: one line, not a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"{PROG}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: aborted", file=sys.stderr)
        return 130
    if result.skipped:
        print(f"{PROG}: skipped {result.skipped} unreadable image file(s)", file=sys.stderr)
    for reason, count in sorted(result.rejected.items()):
        print(f"{PROG}: skipped {count} {reason} image file(s)", file=sys.stderr)
    if not result.finished:
        print(f"{PROG}: stopped at step {result.step}; continue with `{PROG} --resume {config.name}`"
              + (f" --out {config.out}" if config.out else ""), file=sys.stderr)
        return 130
    if result.model is not None:
        print(f"{PROG}: {result.step} steps in {result.time_s:.0f} s; model {spec.name}/{result.model.name} "
              f"saved to {result.model.weights}; run folder {result.run_dir}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
