"""A loopback HTTP server for download tests, and weight files saved as the papers' code saves them.

`LoopbackServer` listens on 127.0.0.1 (a free port), serves `Route`s from memory with HTTP Range
support, and can misbehave on purpose: cut the body off, stall, answer 404 or an HTML page. Every
request is logged. Stalls wait on an event that `stop()` sets, so no handler outlives the test.
"""
from __future__ import annotations

import importlib.util
import io
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from urllib.parse import urlparse

import torch

TESTS = Path(__file__).resolve().parent


@dataclass
class Route:
    """What one path answers.

    body: the file. status: HTTP status for a plain answer (404 ...). content_type: sent as is.
    ranges: honour `Range` requests (206). cut_after: bytes sent before the connection is dropped,
    for the first `cuts` requests. stall_s: seconds to wait (bounded by the server's stop) before
    sending anything, for the first `stalls` requests; then the answer is normal. chunk_delay_s:
    a pause after every 16 KiB of the body (a slow server). redirect: answer 302 to this path.
    Requests through the server as an HTTP proxy (an absolute URL) are served by their path.
    """

    body: bytes = b""
    status: int = 200
    content_type: str = "application/octet-stream"
    ranges: bool = True
    cut_after: int | None = None
    cuts: int = 1
    stall_s: float = 0.0
    stalls: int = 1
    chunk_delay_s: float = 0.0
    redirect: str = ""
    served: int = 0


@dataclass
class LoopbackServer:
    routes: dict[str, Route] = field(default_factory=dict)
    log: list[tuple[str, str | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stop_event = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server._answer(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def url(self, path: str) -> str:
        return self.base + path.lstrip("/")

    def add(self, path: str, body: bytes = b"", **options: object) -> str:
        self.routes["/" + path.lstrip("/")] = Route(body=body, **options)  # type: ignore[arg-type]
        return self.url(path)

    def requests(self, path: str) -> list[str | None]:
        """The Range header of each request for `path` (None when there was none)."""
        return [r for p, r in self.log if p == "/" + path.lstrip("/")]

    def stop(self) -> None:
        self.stop_event.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = urlparse(handler.path).path
        range_header = handler.headers.get("Range")
        self.log.append((path, range_header))
        route = self.routes.get(path)
        if route is None:
            self._plain(handler, 404, b"not found", "text/plain")
            return
        route.served += 1
        if route.redirect:
            handler.send_response(302)
            handler.send_header("Location", self.url(route.redirect))
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        if route.stall_s and route.served <= route.stalls:
            self.stop_event.wait(route.stall_s)
            handler.close_connection = True
            return
        if route.status != 200:
            self._plain(handler, route.status, route.body, route.content_type)
            return
        body, start = route.body, 0
        if range_header and route.ranges and range_header.startswith("bytes="):
            start = int(range_header[6:].split("-")[0])
            if start >= len(body):
                self._plain(handler, 416, b"", "text/plain")
                return
            handler.send_response(206)
            handler.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            handler.send_response(200)
        if route.ranges:
            handler.send_header("Accept-Ranges", "bytes")
        handler.send_header("Content-Type", route.content_type)
        handler.send_header("Content-Length", str(len(body) - start))
        handler.end_headers()
        payload = body[start:]
        if route.cut_after is not None and route.served <= route.cuts:
            handler.wfile.write(payload[: route.cut_after])
            handler.wfile.flush()
            handler.close_connection = True
            return
        try:
            step = 1 << 14 if route.chunk_delay_s else len(payload) or 1
            for offset in range(0, len(payload), step):
                handler.wfile.write(payload[offset:offset + step])
                if route.chunk_delay_s and self.stop_event.wait(route.chunk_delay_s):
                    return
        except (BrokenPipeError, ConnectionResetError):
            pass

    @staticmethod
    def _plain(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


# -- weight files as the papers' code saves them --------------------------------------------------

def _builders(name: str) -> ModuleType:
    """A test module of tests/plugins, loaded for its file builders (not collected again)."""
    spec = importlib.util.spec_from_file_location(f"_builders_{name}", TESTS / "plugins" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def _saved(state: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def jz_generator_bytes(seed: int = 0, ngf: int = 8, n_blocks: int = 2) -> bytes:
    """A tiny reference CycleGAN ResnetGenerator file, as the reference code saves
    `latest_net_G.pth` (`torch.save(net.state_dict())`, reference key layout)."""
    from translator_plugins.cyclegan import checkpoints, networks

    torch.manual_seed(seed)
    ours = networks.ResnetGenerator(ngf=ngf, n_blocks=n_blocks).state_dict()
    return _saved(checkpoints.to_reference(ours, n_blocks, False))


def eccv16_bytes(seed: int = 0) -> bytes:
    """The ECCV16 colorizer state dict of richzhang/colorization, random weights (full size)."""
    return _saved(_builders("test_colorize_import").eccv16_state(seed))


def stylegan_ada_pickle(path: Path, monkeypatch: object) -> bytes:
    """A tiny stylegan2-ada `network-snapshot.pkl` (persistence stubs, G / D / G_ema), written with
    the stylegan import tests' builders."""
    module = _builders("test_stylegan_import")
    stand_ins = module.nvidia_modules.__wrapped__(monkeypatch)
    state = module.rosinality_state(channels={4: 12, 8: 12, 16: 6})
    module.write_nvidia_pickle(path, state, 16, stand_ins)
    return path.read_bytes()


def jz_unet_bytes(seed: int = 0, num_downs: int = 5, ngf: int = 4) -> bytes:
    """A tiny reference pix2pix UnetGenerator file (`edges2shoes.pth` layout: the nested
    `model.model.1...` keys, batch norm), written with the pix2pix import tests' reference net."""
    module = _builders("test_pix2pix_import")
    return _saved(module.seeded(module.ReferenceUnet(num_downs, ngf), seed).state_dict())
