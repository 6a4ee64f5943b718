"""`translator models available|get` against a loopback server, and the store's one-line errors."""
from __future__ import annotations

import json

import pytest
import torch
from catalog_server import LoopbackServer, jz_generator_bytes

from translator.cli.main import main


@pytest.fixture
def server(monkeypatch):
    srv = LoopbackServer()
    from translator_plugins.cyclegan import catalog

    monkeypatch.setattr(catalog, "BASE", srv.base)  # the published entries, served locally
    yield srv
    srv.stop()


def test_available_and_get_are_in_the_help(capsys):
    with pytest.raises(SystemExit):
        main(["models", "--help"])
    out = capsys.readouterr().out
    assert "available" in out and "get" in out


def test_get_installs_a_published_pair_and_available_marks_it(server, capsys):
    server.add("horse2zebra.pth", jz_generator_bytes(1))
    server.add("zebra2horse.pth", jz_generator_bytes(2))
    assert main(["models", "available", "--plugin", "cyclegan", "--json"]) == 0
    listed = {e["name"]: e for e in json.loads(capsys.readouterr().out)}
    assert not listed["horse2zebra"]["installed"] and listed["horse2zebra"]["licence"].startswith("BSD")
    assert main(["models", "get", "horse2zebra"]) == 0
    captured = capsys.readouterr()
    assert "installed cyclegan/horse2zebra as cyclegan/horse2zebra" in captured.out
    assert "horse2zebra.pth" in captured.err and "B/s" in captured.err  # the progress bar, with speed
    assert main(["models", "get", "cyclegan/horse2zebra"]) == 0
    assert "already installed" in capsys.readouterr().out
    assert main(["models", "available", "--plugin", "cyclegan"]) == 0
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("cyclegan/horse2zebra "))
    assert "installed" in line
    assert main(["models", "list", "--json"]) == 0
    model = next(m for m in json.loads(capsys.readouterr().out) if m["name"] == "horse2zebra")
    assert model["kind"] == "downloaded" and model["card"]["config"]["directions"] == ["AtoB", "BtoA"]


def test_get_errors_are_one_line(server, capsys):
    server.add("style_monet.pth", b"<html>gone</html>", content_type="text/html")
    assert main(["models", "get", "style_monet"]) == 2
    assert "web page" in capsys.readouterr().err
    assert main(["models", "get", "cifar10"]) == 2
    assert "not supported" in capsys.readouterr().err
    assert main(["models", "get", "sat2map"]) == 2
    assert "cyclegan/sat2map" in capsys.readouterr().err
    assert main(["models", "get", "no-such-model"]) == 2
    assert "no catalog model named" in capsys.readouterr().err


def test_list_shows_broken_models_and_remove_removes_them(capsys, translator_home):
    folder = translator_home / "models" / "cyclegan"
    folder.mkdir(parents=True)
    (folder / "half.safetensors").write_bytes(b"\x10\x00")
    (folder / "half.json").write_text(json.dumps({"name": 7, "translator": "cyclegan", "config": {}}))
    assert main(["models", "list", "--plugin", "cyclegan"]) == 0
    line = next(l for l in capsys.readouterr().out.splitlines() if "half" in l)
    assert "broken" in line and "'name'" in line
    assert main(["models", "remove", "cyclegan/half"]) == 0
    assert not any(folder.iterdir()) or all(p.name.startswith(".") for p in folder.iterdir())


def test_import_with_a_300_character_name_or_a_home_that_is_a_file_fails_cleanly(tmp_path, capsys, monkeypatch):
    path = tmp_path / "latest_net_G.pth"
    path.write_bytes(jz_generator_bytes(3))
    assert main(["models", "import", str(path), "--name", "x" * 300]) == 2
    assert "too long" in capsys.readouterr().err
    home = tmp_path / "home-file"
    home.write_text("")
    monkeypatch.setenv("TRANSLATOR_HOME", str(home))
    assert main(["models", "import", str(path), "--plugin", "cyclegan"]) == 2
    err = capsys.readouterr().err
    assert "cannot create the model folder" in err and "Traceback" not in err
    torch.manual_seed(0)
