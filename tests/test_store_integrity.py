"""The store never reaches a dead end: one commit point, a per-name lock, broken entries listed
and removable, stale temporary files cleaned, clear errors for bad names and unwritable homes."""
from __future__ import annotations

import errno
import json
import os
import threading
import time
import types

import pytest
import torch

from translator import api
from translator.errors import ModelNotFoundError, TranslatorError
from translator.store import ModelCard, ModelStore, model_name


def _plugin():
    ns = types.SimpleNamespace(__name__="toyplugin")
    spec = api.TranslatorSpec(name="toy", title="Toy", description="", task=api.TaskKind.IMAGE_TO_IMAGE,
                              build=lambda c: torch.nn.Conv2d(3, 3, 1), translate=lambda m, x, p, c: m(x))
    ns.translator_translators = api.hookimpl(lambda: [spec])
    return ns


def _card(name="mine"):
    return ModelCard(name=name, plugin="toyplugin", translator="toy", config={}, source={"kind": "trained"})


def _state(value=1.0):
    net = torch.nn.Conv2d(3, 3, 1)
    torch.nn.init.constant_(net.weight, value)
    return net.state_dict()


@pytest.fixture
def store(model_store):
    return model_store(_plugin())


def test_a_save_cut_before_the_card_leaves_a_broken_entry_that_neither_blocks_nor_hides(store, monkeypatch):
    store.save(_card("other"), _state())
    real_replace = os.replace

    def die_on_card(src, dst):
        if str(dst).endswith(".json"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", die_on_card)
    with pytest.raises(TranslatorError, match="No space left on device"):
        store.save(_card("mine"), _state())
    monkeypatch.setattr(os, "replace", real_replace)
    folder = store.models_dir / "toy"
    assert not [p for p in folder.iterdir() if p.suffix == ".tmp"]
    assert [e.name for e in store.list()] == ["other"]
    [broken] = store.broken()
    assert broken.name == "mine" and "no model card" in broken.reason
    # the name is not blocked, and a later save completes it
    entry = store.save(_card("mine"), _state(2.0))
    assert store.get("mine").card.sha256 == entry.card.sha256 and store.broken() == []


def test_broken_entries_are_listed_with_a_reason_and_removable(store):
    folder = store.models_dir / "toy"
    for name in ("badjson", "array", "badsource", "intname", "nocard", "short", "empty", "linked", "noweights"):
        store.save(_card(name), _state())
    (folder / "badjson.json").write_text("{not json")
    (folder / "array.json").write_text("[1, 2]")
    card = json.loads((folder / "badsource.json").read_text())
    (folder / "badsource.json").write_text(json.dumps({**card, "source": "http://x"}))
    (folder / "intname.json").write_text(json.dumps({**card, "name": 5}))
    (folder / "nocard.json").unlink()
    data = (folder / "short.safetensors").read_bytes()
    (folder / "short.safetensors").write_bytes(data[: len(data) // 2])
    (folder / "empty.safetensors").write_bytes(b"")
    target = folder.parent / "elsewhere.json"
    (folder / "linked.json").rename(target)
    (folder / "linked.json").symlink_to(target)
    (folder / "noweights.safetensors").unlink()
    store.save(_card("healthy"), _state())
    assert [e.name for e in store.list()] == ["healthy"]
    reasons = {b.name: b.reason for b in store.broken()}
    assert set(reasons) == {"badjson", "array", "badsource", "intname", "nocard", "short", "empty",
                            "linked", "noweights"}
    assert "unreadable" in reasons["badjson"] and "not an object" in reasons["array"]
    assert "'source'" in reasons["badsource"] and "'name'" in reasons["intname"]
    assert "truncated" in reasons["short"] and "truncated" in reasons["empty"]
    assert "symbolic link" in reasons["linked"] and "missing" in reasons["noweights"]
    for name in reasons:
        store.remove(name)
    assert store.broken() == [] and target.exists()  # the link is removed, not what it points to
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "healthy.json", "healthy.safetensors"]
    with pytest.raises(ModelNotFoundError):
        store.remove("nothing")


def test_concurrent_saves_of_one_name_let_exactly_one_win(store):
    results: list[str] = []
    barrier = threading.Barrier(6)

    def save(i: int) -> None:
        barrier.wait()
        try:
            store.save(_card("same"), _state(float(i)))
            results.append(f"ok {i}")
        except TranslatorError as exc:
            results.append(str(exc))

    threads = [threading.Thread(target=save, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r.startswith("ok")]
    assert len(winners) == 1 and sum("already exists" in r for r in results) == 5
    winner = float(winners[0].split()[1])
    assert store.load(store.get("same")).weight.flatten()[0].item() == winner


def test_stale_temporary_files_are_cleaned_when_the_store_opens(store, plugin_registry):
    folder = store.models_dir / "toy"
    store.save(_card("mine"), _state())
    tmp = folder / ".mine+abc123.tmp"
    tmp.write_bytes(b"partial")
    old_part = folder / ".big+file.pth.part"
    old_part.write_bytes(b"x")
    os.utime(old_part, (time.time() - 3 * 86400,) * 2)
    fresh_part = folder / ".big+other.pth.part"
    fresh_part.write_bytes(b"x")
    with store.lock("toy", "busy"):
        busy = folder / ".busy+zzz.tmp"
        busy.write_bytes(b"being written")
        ModelStore(plugin_registry(_plugin()), home=store.home)
        assert busy.exists()  # its writer still holds the lock
    assert not tmp.exists() and not old_part.exists() and fresh_part.exists()
    assert [e.name for e in store.list()] == ["mine"]


@pytest.mark.parametrize(("raw", "expected"), [
    ("Zèbre à pois", "Zèbre-à-pois"), ("猫の絵", "猫の絵"), ("a/b\\c", "a-b-c"), ("  x  ", "x")])
def test_names_keep_unicode_letters(raw, expected):
    assert model_name(raw) == expected


def test_bad_names_are_one_line_errors(store):
    with pytest.raises(TranslatorError, match="too long"):
        store.save(_card("n" * 300), _state())
    with pytest.raises(TranslatorError, match="no letters or digits"):
        store.save(_card("///"), _state())
    entry = store.save(_card("Pferd→Zebra"), _state())
    assert entry.name == "Pferd-Zebra" and store.get("Pferd-Zebra")


def test_a_home_that_is_a_file_or_unwritable_is_a_clear_error(plugin_registry, tmp_path):
    home = tmp_path / "home-file"
    home.write_text("not a folder")
    with pytest.raises(TranslatorError, match="cannot create the model folder"):
        ModelStore(plugin_registry(_plugin()), home=home).save(_card(), _state())
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    locked = tmp_path / "locked"
    (locked / "models" / "toy").mkdir(parents=True)
    (locked / "models" / "toy").chmod(0o500)
    try:
        with pytest.raises(TranslatorError, match="cannot write to the model folder"):
            ModelStore(plugin_registry(_plugin()), home=locked).save(_card(), _state())
    finally:
        (locked / "models" / "toy").chmod(0o700)


def test_a_training_export_cut_before_its_card_does_not_block_the_next_export(store, monkeypatch):
    from translator.training.loop import export_model

    spec = store.registry.translator("toy")
    net = torch.nn.Conv2d(3, 3, 1)
    trainer = types.SimpleNamespace(export=lambda: (net, {}))
    sources = types.SimpleNamespace(describe=lambda: {"A": {"folder": "a", "images": 3}})
    config = types.SimpleNamespace(name="run1", batch_size=1, size=8, gan_loss="lsgan")

    def export():
        return export_model(spec, trainer, store, plugin_name="toyplugin", config=config, run_dir=store.home,
                            sources=sources, step=1, time_s=1.0, device=torch.device("cpu"), losses={},
                            initial=None)

    export()
    real_replace = os.replace

    def die_on_card(src, dst):
        if str(dst).endswith(".json"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", die_on_card)
    with pytest.raises(TranslatorError, match="No space left"):
        export()
    monkeypatch.setattr(os, "replace", real_replace)
    assert [b.name for b in store.broken()] == ["run1"]
    assert export().name == "run1" and store.broken() == [] and [e.name for e in store.list()] == ["run1"]


def test_an_unwritable_store_is_a_clear_error_even_for_root(store, monkeypatch):
    import tempfile

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(TranslatorError, match="cannot save model toy/mine .*Permission denied"):
        store.save(_card(), _state())
    assert store.list() == [] and store.broken() == []
