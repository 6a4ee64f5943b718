"""CPU thread defaults: available cores (affinity and cgroup quota), intra-op threads, data-loader
workers, shared by the engine and translator-train."""
from __future__ import annotations

import os

import pytest
import torch

from translator import device as devices
from translator.engine import Engine
from translator.training.config import TrainConfig


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def _no_quota(monkeypatch):
    monkeypatch.setattr(devices, "_cgroup_cpu_quota", lambda root="/sys/fs/cgroup": None)


def test_available_cores_follow_the_affinity_mask(monkeypatch):
    _no_quota(monkeypatch)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 3, 5}, raising=False)
    assert devices.available_cores() == 3


def test_a_cgroup_quota_limits_the_cores(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    monkeypatch.setattr(devices, "_cgroup_cpu_quota", lambda root="/sys/fs/cgroup": 1.5)
    assert devices.available_cores() == 2
    monkeypatch.setattr(devices, "_cgroup_cpu_quota", lambda root="/sys/fs/cgroup": 0.2)
    assert devices.available_cores() == 1


@pytest.mark.parametrize("text,expected", [("150000 100000\n", 1.5), ("max 100000\n", None), ("junk", None)])
def test_cgroup_v2_cpu_max_is_read(tmp_path, text, expected):
    (tmp_path / "cpu.max").write_text(text)
    assert devices._cgroup_cpu_quota(str(tmp_path)) == expected


def test_cgroup_v1_quota_is_read(tmp_path):
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("300000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert devices._cgroup_cpu_quota(str(tmp_path)) == 3.0
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert devices._cgroup_cpu_quota(str(tmp_path)) is None


@pytest.mark.parametrize("cores,workers", [(1, 0), (2, 1), (4, 3), (5, 4), (64, 4)])
def test_loader_workers_leave_a_core_to_the_step(cores, workers):
    assert devices.default_loader_workers(cores) == workers


def test_training_defaults_to_the_loader_workers_of_this_machine(monkeypatch):
    monkeypatch.setattr(devices, "available_cores", lambda: 1)
    assert TrainConfig(plugin="cyclegan", name="x").workers == 0
    monkeypatch.setattr(devices, "available_cores", lambda: 3)
    assert TrainConfig(plugin="cyclegan", name="x").workers == 2


def test_threads_default_to_the_cores_unless_omp_num_threads_asks_fewer(monkeypatch):
    monkeypatch.setattr(devices, "available_cores", lambda: 4)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert devices.default_threads() == 4
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert devices.default_threads() == 2
    monkeypatch.setenv("OMP_NUM_THREADS", "16")
    assert devices.default_threads() == 4


def test_a_cpu_engine_sets_the_intra_op_threads(monkeypatch, restore_threads):
    monkeypatch.setattr(devices, "default_threads", lambda: 2)
    torch.set_num_threads(1)
    Engine("cpu", "fp32")
    assert torch.get_num_threads() == 2
    assert devices.configure_cpu_threads(1) == 1 and torch.get_num_threads() == 1
