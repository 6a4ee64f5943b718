"""The published colorization networks of richzhang/colorization.

Addresses are those its `colorizers/eccv16.py` and `colorizers/siggraph17.py` load; the 8 hex
digits in each file name are the start of the file's sha256 (PyTorch Hub's `check_hash`).
"""
from __future__ import annotations

from translator import api

LICENCE = "BSD 2-Clause (richzhang/colorization, Copyright (c) 2016 Richard Zhang, Phillip Isola, Alexei A. Efros)"
RESOLUTION = "trained on ImageNet at 256x256; runs on the image's lightness at any size"
SOURCE = "https://github.com/richzhang/colorization/tree/master/colorizers"
NOTES = "No size is published; the hash prefix in the file name is checked."


def entries() -> list[api.CatalogEntry]:
    return [
        api.CatalogEntry(
            name="eccv16", plugin="colorize", title="Colorful Image Colorization (ECCV 2016)",
            description="Colours a black-and-white photo automatically (it ignores colour hints).",
            expects="black-and-white or greyscale photos", resolution=RESOLUTION, licence=LICENCE,
            paper="Zhang, Isola, Efros: Colorful Image Colorization, ECCV 2016, https://arxiv.org/abs/1603.08511",
            source=SOURCE,
            files=(api.CatalogFile(url="https://colorizers.s3.us-east-2.amazonaws.com/colorization_release_v2-9b330a0b.pth",
                                   sha256="9b330a0b"),),
            approx_size=32_241_010 * 4, notes=NOTES),
        api.CatalogEntry(
            name="siggraph17", plugin="colorize", title="User-guided colorization (SIGGRAPH 2017)",
            description="Colours a black-and-white photo, following colour hints placed on it.",
            expects="black-and-white or greyscale photos, optionally with colour hints", resolution=RESOLUTION,
            licence=LICENCE,
            paper=("Zhang, Zhu, Isola, Geng, Lin, Yu, Efros: Real-Time User-Guided Image Colorization with "
                   "Learned Deep Priors, SIGGRAPH 2017, https://arxiv.org/abs/1705.02999"),
            source=SOURCE,
            files=(api.CatalogFile(url="https://colorizers.s3.us-east-2.amazonaws.com/siggraph17-df00044c.pth",
                                   sha256="df00044c"),),
            approx_size=34_192_796 * 4, notes=NOTES),
    ]


@api.hookimpl
def translator_model_catalog() -> list[api.CatalogEntry]:
    return entries()
