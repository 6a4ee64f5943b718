"""Run by test_ddp.py under torchrun: trains with `translator-train` arguments, then writes this
rank's final weights (a checksum per network) to $DDP_OUT/rank<R>.json."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch
from translator_plugins.cyclegan.training import CycleGANTrainer

from translator.training.cli import main

trainers: list[CycleGANTrainer] = []
original_init = CycleGANTrainer.__init__


def capturing_init(self, ctx):
    original_init(self, ctx)
    trainers.append(self)


if __name__ == "__main__":
    torch.set_num_threads(1)
    CycleGANTrainer.__init__ = capturing_init
    code = main(sys.argv[1:])
    trainer = trainers[0]
    sums = {name: [float(p.detach().double().sum()) for p in trainer.ctx.unwrap(net).parameters()]
            for name, net in trainer.networks().items()}
    wrapped = {name: type(net).__name__ for name, net in trainer.networks().items()}
    Path(os.environ["DDP_OUT"], f"rank{os.environ['RANK']}.json").write_text(
        json.dumps({"code": code, "sums": sums, "wrapped": wrapped, "world": trainer.ctx.world_size}))
    sys.exit(code)
