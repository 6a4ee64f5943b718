"""The model catalog: its data, and installing from a loopback server (no internet).

The server serves random-weight files saved as the papers' code saves them: a CycleGAN
`latest_net_G.pth` state dict, the ECCV16 colorizer state dict and a stylegan2-ada pickle.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import subprocess
import sys
import threading

import pytest
from catalog_server import LoopbackServer, eccv16_bytes, jz_generator_bytes, jz_unet_bytes, stylegan_ada_pickle

from translator import download
from translator.catalog import CatalogEntry, CatalogFile, check_entry, install, installed, load_catalog
from translator.errors import DownloadError, ModelNotFoundError, TranslatorError
from translator.plugins import load_registry
from translator.store import ModelStore

FAST = {"connect_timeout": 2.0, "read_timeout": 2.0, "retries": 2, "backoff_s": 0.01}


@pytest.fixture
def server():
    srv = LoopbackServer()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def registry():
    return load_registry(third_party=False)


@pytest.fixture
def store(registry, tmp_path):
    return ModelStore(registry, home=tmp_path / "home")


def entry(server_url: str, *files: CatalogFile, plugin: str = "cyclegan", name: str = "zebra") -> CatalogEntry:
    return CatalogEntry(name=name, plugin=plugin, title="Test model", description="Does a test.",
                        expects="test images", resolution="16x16", licence="BSD", paper="a paper",
                        source=server_url, files=files or (CatalogFile(url=server_url),))


def leftovers(store: ModelStore, translator: str = "cyclegan") -> list[str]:
    folder = store.models_dir / translator
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".lock")) if folder.exists() else []


# -- the catalog's data --------------------------------------------------------------------------

def test_every_catalog_entry_is_complete_unique_and_for_an_existing_plugin(registry):
    catalog = load_catalog(registry)
    assert catalog.problems == []
    names = [e.qualified for e in catalog.entries]
    assert len(names) == len(set(names))
    assert {e.plugin for e in catalog.entries} == {"cyclegan", "pix2pix", "colorize", "stylegan"}
    for item in catalog.entries:
        assert item.plugin in registry.plugins and not registry.plugins[item.plugin].broken
        assert check_entry(item) == [], item.qualified
        assert item.supported or item.reason
    pairs = [e for e in catalog.entries if len(e.files) == 2]
    assert "cyclegan/horse2zebra" in [e.qualified for e in pairs]
    assert all(e.files[1].options.get("direction") == "BtoA" for e in pairs)
    assert catalog.find("cyclegan/horse2zebra").files[1].url.endswith("/zebra2horse.pth")
    assert not catalog.find("cifar10").supported and "conditional" in catalog.find("cifar10").reason
    assert catalog.find("eccv16").files[0].sha256 == "9b330a0b"
    with pytest.raises(TranslatorError, match="several catalogs"):
        catalog.find("sat2map")
    with pytest.raises(ModelNotFoundError):
        catalog.find("nothing")


def test_bad_catalog_results_are_reported_and_do_not_hide_the_others(plugin_registry):
    from translator import api

    class Good:
        @api.hookimpl
        def translator_model_catalog(self):
            good = entry("http://127.0.0.1/x.pth", plugin="good", name="fine")
            return [good, entry("http://127.0.0.1/x.pth", plugin="good", name="bad name!"),
                    entry("ftp://x/y.pth", plugin="good", name="ftp"), entry("http://x/y", plugin="other")]

    class Wrong:
        @api.hookimpl
        def translator_model_catalog(self):
            return ["not an entry"]

    registry = plugin_registry()
    registry.register(Good(), "good")
    registry.register(Wrong(), "wrong")
    catalog = load_catalog(registry)
    assert [e.qualified for e in catalog.entries] == ["good/fine"]
    assert len(catalog.problems) == 3
    assert registry.plugins["wrong"].broken and not registry.plugins["good"].broken


# -- installing -----------------------------------------------------------------------------------

def test_a_complete_download_installs_a_two_way_cyclegan_with_a_card(server, store):
    ab, ba = jz_generator_bytes(1), jz_generator_bytes(2)
    item = entry(server.base, CatalogFile(server.add("horse2zebra.pth", ab)),
                 CatalogFile(server.add("zebra2horse.pth", ba), options={"direction": "BtoA"}))
    progress: list[tuple[str, int, int | None]] = []
    result = install(store, item, progress=lambda *p: progress.append(p), **FAST)
    model = result.model
    assert result.downloaded and model.translator == "cyclegan" and model.name == "zebra"
    assert model.card.config["directions"] == ["AtoB", "BtoA"]
    source = model.card.source
    assert source["kind"] == "downloaded" and source["catalog"] == "cyclegan/zebra"
    assert source["sha256"] == hashlib.sha256(ab).hexdigest() and source["licence"] == "BSD"
    assert source["files"][1]["sha256"] == hashlib.sha256(ba).hexdigest() and source["downloaded"]
    assert progress[-1][1:] == (len(ba), len(ba))
    assert store.load(model).G_BA is not None
    assert installed(store, item) is not None
    assert leftovers(store) == ["zebra.json", "zebra.safetensors"]
    # installed: a second install does nothing; the first hashes are recorded for later downloads
    assert not install(store, item, **FAST).downloaded
    recorded = json.loads((store.home / "catalog-hashes.json").read_text())
    assert recorded[item.files[0].url] == hashlib.sha256(ab).hexdigest()


def test_a_download_cut_midway_is_resumed_with_a_range_request(server, store):
    body = jz_generator_bytes(3)
    url = server.add("latest_net_G.pth", body, cut_after=len(body) // 2)
    install(store, entry(url), **FAST)
    assert server.requests("latest_net_G.pth") == [None, f"bytes={len(body) // 2}-"]
    assert leftovers(store) == ["zebra.json", "zebra.safetensors"]


def test_an_interrupted_get_keeps_its_part_and_the_next_get_resumes_it(server, store):
    body = jz_generator_bytes(4)
    url = server.add("latest_net_G.pth", body, cut_after=len(body) // 3)
    with pytest.raises(DownloadError, match="gave up"):
        install(store, entry(url), **{**FAST, "retries": 0})
    [part] = [p for p in leftovers(store) if p.endswith(".part")]
    assert (store.models_dir / "cyclegan" / part).stat().st_size == len(body) // 3
    assert store.list("cyclegan") == [] or all(e.bundled for e in store.list("cyclegan"))
    install(store, entry(url), **FAST)
    assert server.requests("latest_net_G.pth")[-1] == f"bytes={len(body) // 3}-"
    assert leftovers(store) == ["zebra.json", "zebra.safetensors"]


def test_redirects_are_followed_and_proxy_variables_respected(server, store, monkeypatch):
    body = jz_generator_bytes(12)
    server.add("files/latest_net_G.pth", body)
    url = server.add("latest_net_G.pth", redirect="files/latest_net_G.pth")
    install(store, entry(url), **FAST)
    assert server.requests("files/latest_net_G.pth") == [None]
    # through a proxy: the server also answers absolute URLs, as an HTTP proxy does
    monkeypatch.setenv("http_proxy", server.base)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    far = "http://models.example.invalid/files/latest_net_G.pth"
    install(store, entry(far, name="proxied"), **FAST)
    assert server.requests("files/latest_net_G.pth") == [None, None]
    assert store.get("cyclegan/proxied").card.source["url"] == far


def test_a_hash_mismatch_is_refused_and_leaves_nothing(server, store):
    url = server.add("latest_net_G.pth", jz_generator_bytes(5))
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        install(store, entry(server.base, CatalogFile(url, sha256="0" * 64)), **FAST)
    assert leftovers(store) == [] and installed(store, entry(url)) is None


def test_a_later_download_must_match_the_first_ones_hash(server, store):
    url = server.add("latest_net_G.pth", jz_generator_bytes(6))
    install(store, entry(url), **FAST)
    server.routes["/latest_net_G.pth"].body = jz_generator_bytes(7)  # the file changed upstream
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        install(store, entry(url), force=True, **FAST)
    assert store.get("cyclegan/zebra").card.source["sha256"] == hashlib.sha256(jz_generator_bytes(6)).hexdigest()
    assert leftovers(store) == ["zebra.json", "zebra.safetensors"]


@pytest.mark.parametrize(("options", "message"), [
    ({"status": 404, "body": b"gone", "content_type": "text/plain"}, "HTTP 404"),
    ({"body": b"<!DOCTYPE html><html>moved</html>", "content_type": "text/html; charset=utf-8"}, "web page"),
    ({"body": b"\n <html><body>sign in</body></html>", "content_type": "application/octet-stream"}, "web page"),
    ({"body": b"PK\x03\x04 not a checkpoint at all"}, "damaged PyTorch archive|not a readable PyTorch checkpoint"),
])
def test_error_pages_html_and_junk_are_clear_errors_that_leave_nothing(server, store, options, message):
    url = server.add("latest_net_G.pth", **options)
    with pytest.raises(TranslatorError, match=message):
        install(store, entry(url), **FAST)
    assert leftovers(store) == []


def test_a_stalled_server_times_out_with_nothing_left(server, store):
    url = server.add("latest_net_G.pth", jz_generator_bytes(8), stall_s=5, stalls=10)
    with pytest.raises(DownloadError, match="timed out"):
        install(store, entry(url), **{**FAST, "connect_timeout": 0.3, "read_timeout": 0.3, "retries": 1})
    assert leftovers(store) == []


def test_a_full_disk_is_a_clear_error_with_nothing_left(server, store, monkeypatch):
    url = server.add("latest_net_G.pth", jz_generator_bytes(9))
    written = []

    def full(fh, chunk):
        if written:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(len(chunk))
        fh.write(chunk)

    monkeypatch.setattr(download, "_append", full)
    with pytest.raises(DownloadError, match="(?i)no space left on device"):
        install(store, entry(url), **FAST)
    assert leftovers(store) == []


def test_a_full_disk_while_storing_the_model_leaves_nothing(server, store, monkeypatch):
    import safetensors.torch

    url = server.add("latest_net_G.pth", jz_generator_bytes(10))

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_file", full)
    with pytest.raises(TranslatorError, match="No space left on device"):
        install(store, entry(url), **FAST)
    assert leftovers(store) == []


def test_two_concurrent_gets_of_one_model_install_it_once(server, store, registry):
    body = jz_generator_bytes(11)
    url = server.add("latest_net_G.pth", body)
    other = ModelStore(registry, home=store.home)  # as a second process would open it
    results: list[object] = []
    waited = threading.Event()
    barrier = threading.Barrier(2)

    def get(target: ModelStore) -> None:
        barrier.wait()
        try:
            results.append(install(target, entry(url), waiting=waited.set, **FAST))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            results.append(exc)

    threads = [threading.Thread(target=get, args=(s,)) for s in (store, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(not isinstance(r, Exception) for r in results), results
    assert sorted(r.downloaded for r in results) == [False, True]
    assert len(server.requests("latest_net_G.pth")) == 1
    assert leftovers(store) == ["zebra.json", "zebra.safetensors"] and store.broken() == []


def test_an_unsupported_entry_is_refused_before_any_download(server, store):
    url = server.add("cifar10.pkl", b"x")
    item = CatalogEntry(**{**entry(url).__dict__, "supported": False, "reason": "it is class-conditional"})
    with pytest.raises(TranslatorError, match="not supported: it is class-conditional"):
        install(store, item)
    assert server.requests("cifar10.pkl") == []


def test_a_stylegan2_ada_pickle_installs_without_running_its_code(server, store, tmp_path, monkeypatch):
    body = stylegan_ada_pickle(tmp_path / "network-snapshot.pkl", monkeypatch)
    url = server.add("afhqcat.pkl", body)
    model = install(store, entry(url, plugin="stylegan", name="afhqcat"), **FAST).model
    assert model.translator == "stylegan" and model.card.source["catalog"] == "stylegan/afhqcat"
    assert leftovers(store, "stylegan") == ["afhqcat.json", "afhqcat.safetensors"]


def test_a_pix2pix_unet_file_installs(server, store):
    url = server.add("edges2shoes.pth", jz_unet_bytes())
    model = install(store, entry(url, plugin="pix2pix", name="edges2shoes"), **FAST).model
    assert model.translator == "pix2pix" and model.card.config["num_downs"] == 5
    assert leftovers(store, "pix2pix") == ["edges2shoes.json", "edges2shoes.safetensors"]


@pytest.mark.slow
def test_two_processes_importing_one_name_at_once_never_both_succeed(tmp_path):
    path = tmp_path / "latest_net_G.pth"
    path.write_bytes(jz_generator_bytes(13))
    env = {**os.environ, "TRANSLATOR_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-m", "translator.cli.main", "models", "import", str(path),
               "--plugin", "cyclegan", "--name", "same"]
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    outcomes = [(p.wait(120), *p.communicate()) for p in processes]
    assert sorted(code for code, _, _ in outcomes) == [0, 2], outcomes
    assert any("already exists" in err for _, _, err in outcomes)
    folder = tmp_path / "home" / "models" / "cyclegan"
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == ["same.json", "same.safetensors"]


@pytest.mark.slow
def test_the_eccv16_state_dict_installs_with_its_published_hash_prefix(server, store):
    body = eccv16_bytes()
    url = server.add("colorization_release_v2.pth", body)
    prefix = hashlib.sha256(body).hexdigest()[:8]
    item = entry(server.base, CatalogFile(url, sha256=prefix), plugin="colorize", name="eccv16")
    model = install(store, item, **FAST).model
    assert model.translator == "colorize" and model.card.config.get("architecture") == "eccv16"
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        install(store, entry(server.base, CatalogFile(url, sha256="00000000"), plugin="colorize",
                             name="eccv16b"), **FAST)
