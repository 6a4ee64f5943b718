"""The published CycleGAN generators of junyanz/pytorch-CycleGAN-and-pix2pix.

Names and addresses are those of its `scripts/download_cyclegan_model.sh`. Where both
directions of a pair are published (horse2zebra and zebra2horse, ...), one two-way model is
installed: the second file becomes the BtoA generator through the import's `pair_with`.
"""
from __future__ import annotations

from translator import api

BASE = "http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/"
SOURCE = "https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix/blob/master/scripts/download_cyclegan_model.sh"
LICENCE = ("BSD 2-Clause (pytorch-CycleGAN-and-pix2pix, Copyright (c) 2017 Jun-Yan Zhu and Taesung Park); "
           "no separate licence is stated for the weights")
PAPER = ("Zhu, Park, Isola, Efros: Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial "
         "Networks, ICCV 2017, https://arxiv.org/abs/1703.10593")
RESOLUTION = "trained on 256x256 crops (the reference's default); runs at any size"
APPROX_BYTES = 11_378_179 * 4
"""A 9-block ResNet generator (ngf 64) as float32; the script publishes no sizes."""
NOTES = "No size or hash is published: the first download's sha256 is recorded and later downloads must match it."

PAIRS = [
    ("horse2zebra", "zebra2horse", "Horse <-> zebra", "Turns horses into zebras (AtoB) and zebras into horses (BtoA).",
     "photos of horses (AtoB) or of zebras (BtoA)"),
    ("apple2orange", "orange2apple", "Apple <-> orange", "Turns apples into oranges (AtoB) and back (BtoA).",
     "photos of apples (AtoB) or of oranges (BtoA)"),
    ("summer2winter_yosemite", "winter2summer_yosemite", "Summer <-> winter (Yosemite)",
     "Turns summer landscapes into winter ones (AtoB) and back (BtoA).",
     "landscape photos of Yosemite-like scenery in summer (AtoB) or in winter (BtoA)"),
    ("sat2map", "map2sat", "Aerial photo <-> map", "Turns aerial photos into street maps (AtoB) and back (BtoA).",
     "aerial photos (AtoB) or Google-Maps-style maps (BtoA)"),
    ("cityscapes_photo2label", "cityscapes_label2photo", "Street photo <-> label map (Cityscapes)",
     "Turns street scenes into semantic label maps (AtoB) and label maps into street scenes (BtoA).",
     "dashboard-camera street photos (AtoB) or Cityscapes colour label maps (BtoA)"),
    ("facades_photo2label", "facades_label2photo", "Facade photo <-> label map",
     "Turns building facades into label maps (AtoB) and label maps into facades (BtoA).",
     "frontal photos of building facades (AtoB) or CMP Facades colour label maps (BtoA)"),
]
SINGLES = [
    ("monet2photo", "Monet painting -> photo", "Turns Monet paintings into photo-like images.",
     "Monet-style landscape paintings"),
    ("style_monet", "Photo -> Monet", "Paints a photo in the style of Claude Monet.", "landscape photos"),
    ("style_cezanne", "Photo -> Cezanne", "Paints a photo in the style of Paul Cezanne.", "landscape photos"),
    ("style_ukiyoe", "Photo -> Ukiyo-e", "Paints a photo in the style of Japanese ukiyo-e prints.", "landscape photos"),
    ("style_vangogh", "Photo -> Van Gogh", "Paints a photo in the style of Vincent van Gogh.", "landscape photos"),
    ("iphone2dslr_flower", "iPhone -> DSLR (flowers)",
     "Gives phone photos of flowers the shallow depth of field of a DSLR.", "close-up phone photos of flowers"),
]


def _file(name: str, **options: str) -> api.CatalogFile:
    return api.CatalogFile(url=f"{BASE}{name}.pth", options=options)


def _entry(name: str, title: str, description: str, expects: str, files: tuple[api.CatalogFile, ...]) -> api.CatalogEntry:
    return api.CatalogEntry(
        name=name, plugin="cyclegan", title=f"CycleGAN {title}", description=description, expects=expects,
        resolution=RESOLUTION, licence=LICENCE, paper=PAPER, source=SOURCE, files=files,
        approx_size=APPROX_BYTES * len(files), notes=NOTES)


def entries() -> list[api.CatalogEntry]:
    """Every published generator: the pairs as two-way models, the rest one-way (AtoB)."""
    out = [_entry(a, title, description, expects, (_file(a), _file(b, direction="BtoA")))
           for a, b, title, description, expects in PAIRS]
    out += [_entry(name, title, description, expects, (_file(name),))
            for name, title, description, expects in SINGLES]
    return out


@api.hookimpl
def translator_model_catalog() -> list[api.CatalogEntry]:
    return entries()
