"""The training loop every plugin shares: data, device, precision, schedule, checkpoints,
resume, samples, logs and export to the model store. The plugin's `Trainer` does one step."""
from __future__ import annotations

import csv
import json
import logging
import math
import os
import random
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from translator.device import configure_cpu_threads, default_threads, resolve_device
from translator.errors import CheckpointError, DeviceError, ParameterError, TranslatorError
from translator.training.checkpoint import (
    CHECKPOINT_NAME,
    load_checkpoint,
    remove_stale_temps,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from translator.training.config import TrainConfig
from translator.training.context import TrainContext
from translator.training.data import (
    Augment,
    EpochSampler,
    ImageDataset,
    collate,
    first_readable,
    make_sources,
)
from translator.training.losses import GANLoss
from translator.training.schedule import LinearDecay
from translator.training.spec import DataKind

if TYPE_CHECKING:
    import torch
    from torch import Tensor

    from translator.spec import TranslatorSpec
    from translator.store import ModelEntry, ModelStore
    from translator.training.spec import Trainer

log = logging.getLogger(__name__)

SAMPLE_COUNT = 4
"""Images per row of the sample grids (the first readable ones of each folder)."""


class Diverged(TranslatorError):
    """The losses or the weights became NaN or infinite; the run stopped without saving that
    state, so its last good checkpoint (if any) is kept."""


@dataclass
class RunResult:
    """What a finished (or interrupted) run produced.

    run_dir: the run folder. step: generator steps done. finished: all steps done (else stopped
    by Ctrl+C). model: the exported model (rank 0, finished runs), else None. losses: the last ones.
    """

    run_dir: Path
    step: int
    finished: bool
    model: ModelEntry | None = None
    losses: dict[str, float] = field(default_factory=dict)
    time_s: float = 0.0
    skipped: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    """Files the translator's `TrainingSpec.reject` refused, counted by reason."""


# -- devices ---------------------------------------------------------------------------------

def pick_device(name: str, local_rank: int = 0) -> torch.device:
    """The device `--device` names (see `translator.device.resolve_device`), made current.

    Raises `DeviceError` when CUDA is asked for but missing.
    """
    import torch

    device = resolve_device(name, local_rank=local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    return device


def pick_amp_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """Autocast dtype: "auto" is bf16 on CUDA devices that support it, fp16 on older ones,
    none (fp32) on the CPU. Raises `DeviceError` for fp16/bf16 on the CPU."""
    import torch

    if precision == "fp32" or (precision == "auto" and device.type != "cuda"):
        return None
    if device.type != "cuda":
        raise DeviceError(f"--precision {precision} needs a CUDA device; use fp32 on the CPU")
    if precision == "fp16" or (precision == "auto" and not torch.cuda.is_bf16_supported()):
        return torch.float16
    return torch.bfloat16


@dataclass(frozen=True)
class Distributed:
    """This process's place in a `torchrun` job (rank 0 of 1 without one)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls) -> Distributed:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        return cls(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))

    def init(self, device: torch.device) -> None:
        import torch.distributed as dist

        if self.world_size > 1 and not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                                    rank=self.rank, world_size=self.world_size)

    def any(self, flag: bool, device: torch.device) -> bool:
        """True when `flag` is set in any process (so that all stop at the same step)."""
        if self.world_size == 1:
            return flag
        import torch
        import torch.distributed as dist

        value = torch.tensor([float(flag)], device=device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def barrier(self) -> None:
        import torch.distributed as dist

        if self.world_size > 1 and dist.is_initialized():
            dist.barrier()

    def close(self) -> None:
        import torch.distributed as dist

        if self.world_size > 1 and dist.is_initialized():
            dist.destroy_process_group()


# -- the run ---------------------------------------------------------------------------------

def runs_dir(out: str | None = None) -> Path:
    """`--out`, else `$TRANSLATOR_HOME/runs`, else the user data dir's `runs`."""
    from translator.store import user_home

    return Path(out).expanduser() if out else user_home() / "runs"


class StopFlag:
    """Ctrl+C (SIGINT) sets it; the loop stops after the current step. A second Ctrl+C raises.
    With `stop_file`, that file appearing is a stop request too (portable, no signal needed)."""

    def __init__(self, stop_file: Path | None = None) -> None:
        self.set = False
        self.stop_file = stop_file
        self._previous: Any = None

    def requested(self) -> bool:
        """A stop was asked for (Ctrl+C or the stop file)."""
        if not self.set and self.stop_file is not None and self.stop_file.exists():
            self.set = True
        return self.set

    def __enter__(self) -> StopFlag:  # noqa: PYI034 - final class
        try:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread
            self._previous = None
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.set:
            raise KeyboardInterrupt
        self.set = True
        print("\ntranslator-train: stopping after this step (Ctrl+C again to abort)", file=sys.stderr)

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def train(spec: TranslatorSpec, config: TrainConfig, store: ModelStore, *, plugin_name: str = "",
          resume: bool = False, argv: list[str] | None = None, progress: Path | None = None,
          stop_file: Path | None = None) -> RunResult:
    """Train `spec` as `config` says; returns what was produced.

    resume: continue `config.name` from its checkpoint (the caller restored its options).
    progress: a JSON-lines file the run appends its progress to (rank 0; the format is in
    `translator.training.monitor`). stop_file: when this file appears, the run stops after the
    current step and saves a checkpoint, as on Ctrl+C.
    Raises `DataError` for unusable data, `CheckpointError` for a bad checkpoint or initial
    model, `DeviceError`, `ParameterError`.
    """
    import numpy as np
    import torch

    if spec.training is None:
        raise TranslatorError(f"{spec.name} cannot be trained (its plugin declares no TrainingSpec)")
    training = spec.training
    config.validate()
    if config.size % spec.size_multiple:
        raise ParameterError(f"--size {config.size} must be a multiple of {spec.size_multiple} for {spec.name}")
    dist = Distributed.from_env()
    device = pick_device(config.device, dist.local_rank)
    configure_cpu_threads(max(1, default_threads() // int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1)))
    dist.init(device)
    try:
        amp_dtype = pick_amp_dtype(config.precision, device)
        run_dir = runs_dir(config.out) / config.name
        _check_run_dir(run_dir, resume=resume)
        _check_writable(Path(store.models_dir), "the model store")
        checkpoint_path = run_dir / CHECKPOINT_NAME
        if not resume and checkpoint_path.exists():
            raise TranslatorError(f"run {config.name!r} already exists in {run_dir.parent}; resume it "
                                  f"with --resume {config.name} or choose another --name")

        target_only = (training.data is DataKind.PAIRED and training.input_from_target is not None
                       and bool(training.input_from_target(config.plugin_options)))
        sources = make_sources(training.data, data=config.data, data_a=config.data_a,
                               data_b=config.data_b, direction=config.direction, target_only=target_only)
        load_size = config.load_size or max(config.size, round(config.size * 286 / 256))
        max_side = 2 * load_size
        fixed = first_readable(sources, SAMPLE_COUNT, max_side=max_side, reject=training.reject)
        sampler = EpochSampler(sources.counts(), seed=config.seed, paired=sources.paired,
                               rank=dist.rank, world=dist.world_size)
        per_epoch = max(1, sampler.epoch_length // config.batch_size)
        total = config.epochs * per_epoch if config.epochs else config.steps
        decay = config.decay_steps if config.decay_steps is not None else round(total * training.decay_fraction)
        schedule = LinearDecay(total, min(decay, total))

        random.seed(config.seed + dist.rank)
        np.random.seed((config.seed + dist.rank) % 2**32)
        torch.manual_seed(config.seed + dist.rank)

        initial_entry, initial_model = _initial_model(spec, config, store)
        initial_config, scratch_config = architecture(spec, config, initial_entry)
        channels_last = config.channels_last and device.type == "cuda"
        scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None
        ctx = TrainContext(
            device=device, amp_dtype=amp_dtype, options={**config.plugin_options, **config.shared_options(),
                                                         "steps": total},
            gan_loss=GANLoss(config.gan_loss), initial_model=initial_model,
            initial_config=initial_config, default_config=scratch_config, rank=dist.rank, world_size=dist.world_size,
            channels_last=channels_last, seed=config.seed, scaler=scaler)
        trainer = training.make_trainer(ctx)
        optimizers = dict(trainer.optimizers())
        augment = Augment(config.size, load_size, flip=config.flip, seed=config.seed * 31 + dist.rank)

        step, elapsed, last_losses = 0, 0.0, {}
        if resume:
            state = load_checkpoint(checkpoint_path)
            _restore(state, trainer, optimizers, scaler, augment)
            step, elapsed = int(state["step"]), float(state["time_s"])
            last_losses = dict(state.get("losses", {}))
            if step > total:
                raise CheckpointError(f"run {config.name!r} already did {step} steps, more than {total}")
            set_rng_state(state["rng"])
            position = state["sampler"]
            sampler.start(int(position["epoch"]), int(position["offset"]))
        else:
            sampler.start(0, 0)

        writer = RunWriter(run_dir, enabled=dist.rank == 0, progress=progress)
        try:
            writer.start(config, argv, resume=resume, step=step)
        except OSError as exc:
            raise TranslatorError(f"run folder {run_dir}: cannot write ({exc.strerror or exc})") from exc
        good_step = step if resume else None  # the step of the last checkpoint known to be finite
        loader = torch.utils.data.DataLoader(
            ImageDataset(sources, max_side=max_side, reject=training.reject), batch_size=config.batch_size, sampler=sampler,
            collate_fn=collate, num_workers=config.workers, pin_memory=device.type == "cuda",
            persistent_workers=config.workers > 0, drop_last=True,
            generator=torch.Generator().manual_seed(config.seed))
        fixed_batch = augment(fixed, device, paired=sources.paired, train=False, channels_last=channels_last)

        def checkpoint() -> None:
            nonlocal good_step
            broken = _nonfinite_weights(trainer)
            if broken:
                raise _diverged(config, run_dir, step, f"the weights of {broken} hold NaN or infinite values",
                                good_step)
            if dist.rank == 0:
                consumed = step * config.batch_size  # per rank
                position = {"epoch": consumed // sampler.epoch_length, "offset": consumed % sampler.epoch_length,
                            "seed": config.seed}
                save_checkpoint(checkpoint_path, {
                    **_state(step, elapsed + time.perf_counter() - started, last_losses, trainer, optimizers,
                             scaler, augment, config),
                    "sampler": position, "schedule": schedule.state_dict()})
            good_step = step

        skipped: set[str] = set()
        rejected: dict[str, str] = {}
        started = time.perf_counter()
        from tqdm import tqdm

        bar = tqdm(total=total, initial=step, disable=config.quiet or dist.rank != 0, unit="step",
                   dynamic_ncols=True, desc=config.name)
        images_per_step = config.batch_size * dist.world_size
        finished = False
        first_step = step
        writer.progress.event("start", run=config.name, run_dir=str(run_dir), step=step, total=total,
                              resumed=resume)
        with StopFlag(stop_file) as stop:
            batches = iter(loader)
            window = time.perf_counter()
            limit_s = config.time_limit * 60 if config.time_limit else None
            out_of_time = False
            while step < total and not dist.any(stop.requested(), device):
                if limit_s is not None and dist.any(elapsed + time.perf_counter() - started >= limit_s, device):
                    out_of_time = True  # the budget is spent: end here and export, as if done
                    break
                raw = next(batches)
                for path in raw.pop("_skipped"):
                    if path not in skipped:
                        skipped.add(path)
                        log.warning("skipping unreadable image %s", path)
                for path, reason in raw.pop("_rejected", []):
                    if path not in rejected:
                        rejected[path] = reason
                        log.info("skipping %s image %s", reason, path)
                batch = augment(raw, device, paired=sources.paired, channels_last=channels_last)
                lr_factor = schedule.apply(optimizers.values(), progress_step(
                    step, total, elapsed + time.perf_counter() - started, limit_s))
                try:
                    losses = {k: _number(v) for k, v in trainer.train_step(batch, step).items()}
                except (TranslatorError, KeyboardInterrupt):
                    raise
                except Exception as exc:  # the plugin's step: one clear line, not a traceback
                    if first_step == step and isinstance(exc, (ValueError, RuntimeError)):
                        raise TranslatorError(
                            f"{spec.name} cannot train on {config.size} x {config.size} crops with these "
                            f"options ({_first_line(exc)}); try a larger --size") from exc
                    raise
                bad = sorted(k for k, v in losses.items() if not math.isfinite(v))
                if bad:
                    bar.close()
                    writer.close()
                    raise _diverged(config, run_dir, step + 1, f"loss {', '.join(bad)} is "
                                    f"{losses[bad[0]]}", good_step)
                step += 1
                last_losses = losses
                now = time.perf_counter()
                rate = images_per_step / max(now - window, 1e-9)
                window = now
                bar.set_postfix({**{k: f"{v:.3g}" for k, v in losses.items()}, "img/s": f"{rate:.1f}"},
                                refresh=False)
                bar.update(1)
                writer.metrics(step, now - started + elapsed, losses, lr=lr_factor * config.lr, rate=rate,
                               total=total)
                if dist.rank == 0 and config.sample_every and step % config.sample_every == 0:
                    writer.samples(step, _sample_rows(trainer, fixed_batch))
                if config.save_every and step % config.save_every == 0:
                    checkpoint()
            finished = step >= total or out_of_time
        bar.close()
        checkpoint()
        elapsed += time.perf_counter() - started
        result = RunResult(run_dir=run_dir, step=step, finished=finished, losses=last_losses,
                           time_s=elapsed, skipped=len(skipped), rejected=_count_reasons(rejected))
        if dist.rank == 0:
            if config.sample_every and step % config.sample_every:
                writer.samples(step, _sample_rows(trainer, fixed_batch))  # the last state too
            if finished:
                result.model = export_model(
                    spec, trainer, store, plugin_name=plugin_name or spec.name, config=config,
                    run_dir=run_dir, sources=sources, step=step, time_s=elapsed, device=device,
                    losses=last_losses, initial=initial_entry, rejected=result.rejected)
        writer.progress.event("end", step=step, finished=finished, translator=spec.name,
                              model=result.model.name if result.model is not None else None)
        writer.close()
        dist.barrier()
        return result
    finally:
        dist.close()


def _check_run_dir(run_dir: Path, *, resume: bool = False) -> None:
    """Refuse a run folder that is not a real folder directly under the runs folder, an existing
    folder with files that is not a run's (a new run would replace its metrics.csv and
    options.json), or one that cannot be created (`--out` or TRANSLATOR_HOME a file, or not
    writable)."""
    if run_dir.is_symlink() or (run_dir.exists() and not run_dir.is_dir()):
        raise TranslatorError(f"{run_dir} is not a run folder (a link or a file); choose another --name")
    if not resume and run_dir.is_dir() and not (run_dir / "options.json").is_file():
        try:
            occupied = any(run_dir.iterdir())
        except OSError:
            occupied = True
        if occupied:
            raise TranslatorError(f"{run_dir} exists and holds files of something other than a run; "
                                  f"choose another --name or --out")
    _check_writable(run_dir, "the run folder")


def _check_writable(folder: Path, what: str) -> None:
    """Raise `TranslatorError` unless `folder` exists and is writable, or can be created (its
    first existing parent is a writable folder)."""
    probe = folder
    while not probe.exists() and probe.parent != probe:
        if probe.is_symlink():  # a dangling link
            raise TranslatorError(f"{probe}: a broken link, so {what} {folder} cannot be created")
        probe = probe.parent
    if not probe.is_dir():
        raise TranslatorError(f"{probe} is a file, so {what} {folder} cannot be created "
                              f"(check --out and TRANSLATOR_HOME)")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise TranslatorError(f"{probe} is not writable, so {what} {folder} cannot be written "
                              f"(check --out and TRANSLATOR_HOME)")


def _nonfinite_weights(trainer: Trainer) -> str:
    """Names of the trainer's networks holding NaN or infinite weights ("" when all are finite)."""
    import torch

    broken = []
    for name, module in trainer.networks().items():
        tensors = list(TrainContext.unwrap(module).state_dict().values())
        if any(t.is_floating_point() and not bool(torch.isfinite(t).all()) for t in tensors):
            broken.append(name)
    return ", ".join(broken)


def _diverged(config: TrainConfig, run_dir: Path, step: int, what: str, good_step: int | None) -> Diverged:
    if good_step is None:
        kept = "no checkpoint had been written yet"
    else:
        kept = f"the last good checkpoint (step {good_step}) is kept in {run_dir}"
    return Diverged(f"training diverged at step {step}: {what}; stopped, {kept}. "
                    f"Try a lower --lr (it was {config.lr:g}).")


def architecture(spec: TranslatorSpec, config: TrainConfig, initial: ModelEntry | None
                 ) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(the fine-tuned model's config, the config of a network trained from scratch), both
    validated and complete, with the architecture options given (`config.config_options`).

    Raises `ParameterError` for an architecture option given when fine-tuning that the plugin
    does not allow to change then (`TrainingSpec.fine_tune_options`).
    """
    training = spec.training
    assert training is not None
    given = dict(config.config_options)
    scratch = spec.resolve_config({**training.scratch_config, **given}, source="the architecture options")
    if initial is None:
        return None, scratch
    fixed = sorted(set(given) - set(training.fine_tune_options))
    if fixed:
        flags = ", ".join("--" + name.replace("_", "-") for name in fixed)
        raise ParameterError(f"{flags}: the architecture of a network trained from scratch; fine-tuning "
                             f"{initial.name} keeps its own. Add --from scratch to train a new network"
                             + (f" (when fine-tuning only {', '.join(training.fine_tune_options)} may change)"
                                if training.fine_tune_options else ""))
    card = spec.resolve_config(initial.card.config, source=f"model card {initial.name!r}")
    return spec.resolve_config({**card, **given}, source="the architecture options"), scratch


def _initial_model(spec: TranslatorSpec, config: TrainConfig, store: ModelStore
                   ) -> tuple[ModelEntry | None, Any]:
    """--from: "scratch" -> (None, None); "bundled" -> the translator's default model (scratch
    when it has none); else the named model of the store."""
    if config.init == "scratch":
        return None, None
    if config.init in ("", "bundled"):
        entry = store.default(spec.name)
        if entry is None or not entry.bundled:
            if config.init == "bundled":
                raise CheckpointError(f"{spec.name} has no bundled model to fine-tune; use --from scratch")
            return None, None
    else:
        entry = store.get(config.init, spec.name)
    return entry, store.load(entry).train()


def progress_step(step: int, total: int, elapsed_s: float, limit_s: float | None) -> int:
    """The step the learning-rate schedule is evaluated at: `step`, or under a time budget the
    step the run would be at if it ran its `total` steps in exactly `limit_s` seconds, whichever
    is further (at most total - 1). So the decay phase starts after the same fraction of the
    budget, of steps or of time, whichever runs out first, and ends near zero when the time is up.
    """
    if not limit_s or total <= 0:
        return step
    by_time = int(total * min(elapsed_s / limit_s, 1.0))
    return min(max(step, by_time), total - 1)


def _state(step: int, time_s: float, losses: Mapping[str, float], trainer: Trainer,
           optimizers: Mapping[str, torch.optim.Optimizer], scaler: Any, augment: Augment,
           config: TrainConfig) -> dict[str, Any]:
    return {
        "step": step,
        "time_s": time_s,
        "losses": dict(losses),
        "networks": {k: TrainContext.unwrap(m).state_dict() for k, m in trainer.networks().items()},
        "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
        "scaler": scaler.state_dict() if scaler is not None else {},
        "trainer": trainer.state_dict(),
        "augment": augment.state_dict(),
        "rng": rng_state(),
        "options": json.dumps(config.to_dict()),
    }


def _restore(state: Mapping[str, Any], trainer: Trainer, optimizers: Mapping[str, Any], scaler: Any,
             augment: Augment) -> None:
    networks = trainer.networks()
    missing = (set(networks) ^ set(state["networks"])) | (set(optimizers) ^ set(state["optimizers"]))
    if missing:
        raise CheckpointError(f"the checkpoint does not match this trainer ({', '.join(sorted(missing))})")
    try:
        for name, module in networks.items():
            TrainContext.unwrap(module).load_state_dict(state["networks"][name], strict=True)
        for name, optimizer in optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
    except (RuntimeError, ValueError, KeyError) as exc:
        raise CheckpointError(f"the checkpoint does not fit the networks: {exc}") from exc
    if scaler is not None and state.get("scaler"):
        scaler.load_state_dict(state["scaler"])
    trainer.load_state_dict(state["trainer"])
    augment.load_state_dict(state["augment"])


def _count_reasons(rejected: Mapping[str, str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for reason in rejected.values():
        counts[reason] = counts.get(reason, 0) + 1
    return counts


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:300]


def _number(value: Any) -> float:
    return float(value.detach()) if hasattr(value, "detach") else float(value)


def _sample_rows(trainer: Trainer, batch: Mapping[str, Tensor]) -> list[Tensor]:
    import torch

    with torch.random.fork_rng(devices=[]), torch.no_grad():
        return [row.detach().float().clamp(0, 1).cpu() for row in trainer.samples(batch)]


# -- outputs ---------------------------------------------------------------------------------

class RunWriter:
    """The files of a run folder: options.json, metrics.csv, samples/, TensorBoard (if present).
    Only rank 0 writes (`enabled`)."""

    def __init__(self, run_dir: Path, *, enabled: bool = True, progress: Path | None = None) -> None:
        from translator.training.monitor import ProgressWriter

        self.run_dir = run_dir
        self.enabled = enabled
        self.progress = ProgressWriter(progress if enabled else None)
        self._csv: Any = None
        self._columns: list[str] | None = None
        self._tb: Any = None

    def start(self, config: TrainConfig, argv: list[str] | None, *, resume: bool, step: int) -> None:
        if not self.enabled:
            return
        (self.run_dir / "samples").mkdir(parents=True, exist_ok=True)
        remove_stale_temps(self.run_dir)
        record = {"command": ["translator-train", *(argv or [])], "options": config.to_dict()}
        options = self.run_dir / "options.json"
        if resume and options.exists():
            record = json.loads(options.read_text(encoding="utf-8"))
            record.setdefault("resumed", []).append({"step": step, "command": ["translator-train", *(argv or [])]})
        options.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        path = self.run_dir / "metrics.csv"
        if resume and path.exists():
            _truncate_metrics(path, step)
            with path.open(encoding="utf-8", newline="") as fh:
                self._columns = next(csv.reader(fh), None)
        elif path.exists():
            path.unlink()
        self._csv = path.open("a", encoding="utf-8", newline="")
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            self._tb = None
        else:
            self._tb = SummaryWriter(str(self.run_dir / "tensorboard"), purge_step=step or None)

    def metrics(self, step: int, time_s: float, losses: Mapping[str, float], *, lr: float, rate: float,
                total: int = 0) -> None:
        if not self.enabled or self._csv is None:
            return
        self.progress.event("step", step=step, total=total, time_s=round(time_s, 3), losses=dict(losses),
                            images_per_s=round(rate, 3))
        row = {"step": step, "time_s": f"{time_s:.3f}", "lr": f"{lr:.6g}", "images_per_s": f"{rate:.3f}",
               **{k: f"{v:.6g}" for k, v in losses.items()}}
        writer = csv.writer(self._csv)
        if self._columns is None:
            self._columns = list(row)
            writer.writerow(self._columns)
        writer.writerow([row.get(c, "") for c in self._columns])
        self._csv.flush()
        if self._tb is not None:
            for key, value in losses.items():
                self._tb.add_scalar(f"loss/{key}", value, step)
            self._tb.add_scalar("lr", lr, step)

    def samples(self, step: int, rows: list[Tensor]) -> Path | None:
        """Write rows (each (B, 3, H, W) in [0, 1]) as one PNG grid, a row per tensor."""
        if not self.enabled or not rows:
            return None
        import cv2
        import numpy as np
        import torch

        grid = torch.cat([torch.cat(list(row), dim=-1) for row in rows], dim=-2)  # (3, rows*H, B*W)
        array = (grid.permute(1, 2, 0).numpy() * 255.0 + 0.5).clip(0, 255).astype(np.uint8)
        path = self.run_dir / "samples" / f"step_{step:07d}.png"
        if not cv2.imwrite(str(path), cv2.cvtColor(array, cv2.COLOR_RGB2BGR)):
            log.warning("could not write %s", path)
        else:
            self.progress.event("sample", step=step, path=str(path))
        if self._tb is not None:
            self._tb.add_image("samples", grid, step)
        return path

    def close(self) -> None:
        self.progress.close()
        if self._csv is not None:
            self._csv.close()
        if self._tb is not None:
            self._tb.close()


def _truncate_metrics(path: Path, step: int) -> None:
    """Drop rows after `step` (written after the checkpoint a run resumes from)."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return
    kept = [rows[0]] + [r for r in rows[1:] if r and r[0].isdigit() and int(r[0]) <= step]
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(kept)


def export_model(spec: TranslatorSpec, trainer: Trainer, store: ModelStore, *, plugin_name: str,
                 config: TrainConfig, run_dir: Path, sources: Any, step: int, time_s: float,
                 device: torch.device, losses: Mapping[str, float], initial: ModelEntry | None,
                 rejected: Mapping[str, int] | None = None) -> ModelEntry:
    """Save the trainer's inference network to the store (fp16 safetensors + model card named
    after the run, replacing an earlier export of the same run)."""
    from translator.store import ModelCard

    module, model_config = trainer.export()
    origin = f"fine-tuned from {initial.name}" if initial is not None else "trained from scratch"
    card = ModelCard(
        name=config.name, plugin=plugin_name, translator=spec.name, config=dict(model_config),
        source={"kind": "trained", "run": str(run_dir), "from": initial.name if initial else "scratch"},
        title=f"{spec.title}: {config.name}",
        description=f"{spec.title} {origin} for {step} steps on {_data_words(sources)}.",
        training={"data": sources.describe(), "steps": step, "time_s": round(time_s, 1),
                  "device": str(device), "losses": {k: v for k, v in losses.items() if math.isfinite(v)},
                  "batch_size": config.batch_size, "size": config.size, "gan_loss": config.gan_loss},
    )
    if rejected:
        card.training["skipped"] = dict(rejected)
    state = {k: v.detach().cpu() for k, v in TrainContext.unwrap(module).state_dict().items()}
    return store.save(card, state, half=True, overwrite=True)


def _data_words(sources: Any) -> str:
    return ", ".join(f"{key} {info['folder']} ({info['images']} images)"
                     for key, info in sources.describe().items())
