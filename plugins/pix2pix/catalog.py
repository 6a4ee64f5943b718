"""The published pix2pix generators of junyanz/pytorch-CycleGAN-and-pix2pix.

Names and addresses are those of its `scripts/download_pix2pix_model.sh`.
"""
from __future__ import annotations

from translator import api

BASE = "http://efrosgans.eecs.berkeley.edu/pix2pix/models-pytorch/"
SOURCE = "https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix/blob/master/scripts/download_pix2pix_model.sh"
LICENCE = ("BSD 2-Clause (pytorch-CycleGAN-and-pix2pix, Copyright (c) 2016 Phillip Isola and Jun-Yan Zhu, "
           "2017 Jun-Yan Zhu and Taesung Park); no separate licence is stated for the weights")
PAPER = ("Isola, Zhu, Zhou, Efros: Image-to-Image Translation with Conditional Adversarial Networks, "
         "CVPR 2017, https://arxiv.org/abs/1611.07004")
RESOLUTION = "256x256 (a U-Net 256 trained on 256x256 images)"
APPROX_BYTES = 54_423_824 * 4
"""A U-Net 256 (ngf 64, batch norm) as float32; the script publishes no sizes."""
NOTES = "No size or hash is published: the first download's sha256 is recorded and later downloads must match it."

MODELS = [
    ("edges2shoes", "Edges -> shoes", "Turns a line drawing of a shoe into a photo of a shoe.",
     "line drawings of shoes: dark lines on white, the shoe filling the frame"),
    ("facades_label2photo", "Label map -> facade", "Turns a facade label map into a photo of a building front.",
     "CMP Facades colour label maps (walls, windows, doors... as flat colours)"),
    ("sat2map", "Aerial photo -> map", "Turns an aerial photo into a street map.",
     "aerial photos (Google Maps satellite view)"),
    ("map2sat", "Map -> aerial photo", "Turns a street map into an aerial photo.",
     "Google-Maps-style street maps"),
    ("day2night", "Day -> night", "Turns a daytime outdoor scene into the same scene at night.",
     "daytime outdoor photos of landscapes and towns"),
]


def entries() -> list[api.CatalogEntry]:
    return [api.CatalogEntry(
        name=name, plugin="pix2pix", title=f"pix2pix {title}", description=description, expects=expects,
        resolution=RESOLUTION, licence=LICENCE, paper=PAPER, source=SOURCE,
        files=(api.CatalogFile(url=f"{BASE}{name}.pth"),), approx_size=APPROX_BYTES, notes=NOTES)
        for name, title, description, expects in MODELS]


@api.hookimpl
def translator_model_catalog() -> list[api.CatalogEntry]:
    return entries()
