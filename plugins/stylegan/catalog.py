"""The published StyleGAN2-ADA generators of NVlabs/stylegan2-ada-pytorch.

Names, resolutions and addresses are those of the README's "Data repository" table
(`pretrained/*.pkl`). The network pickles are read with the allow-list unpickler; no code
from them runs.
"""
from __future__ import annotations

from translator import api

BASE = "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/"
SOURCE = "https://github.com/NVlabs/stylegan2-ada-pytorch#data-repository"
LICENCE = ("NVIDIA Source Code License for StyleGAN2 with Adaptive Discriminator Augmentation (ADA): "
           "non-commercial use only")
ADA = ("Karras, Aittala, Hellsten, Laine, Lehtinen, Aila: Training Generative Adversarial Networks with "
       "Limited Data, NeurIPS 2020, https://arxiv.org/abs/2006.06676")
STYLEGAN2 = ("Karras, Laine, Aittala, Hellsten, Lehtinen, Aila: Analyzing and Improving the Image Quality of "
             "StyleGAN, CVPR 2020, https://arxiv.org/abs/1912.04958")
NOTES = ("No size or hash is published: the first download's sha256 is recorded and later downloads must "
         "match it.")
EXPECTS = "no input image (it generates from a seed)"

MODELS = [
    ("ffhq", "FFHQ faces", "Generates photos of human faces.", "1024x1024", STYLEGAN2,
     "FFHQ at 1024x1024, trained with the original StyleGAN2"),
    ("metfaces", "MetFaces portraits", "Generates painted and sculpted portraits in the style of museum art.",
     "1024x1024", ADA, "MetFaces at 1024x1024, transfer learning from FFHQ with ADA"),
    ("afhqcat", "AFHQ cats", "Generates photos of cat faces.", "512x512", ADA, "AFHQ Cat, trained from scratch with ADA"),
    ("afhqdog", "AFHQ dogs", "Generates photos of dog faces.", "512x512", ADA, "AFHQ Dog, trained from scratch with ADA"),
    ("afhqwild", "AFHQ wild animals", "Generates photos of wild animal faces (big cats, foxes, wolves...).",
     "512x512", ADA, "AFHQ Wild, trained from scratch with ADA"),
    ("brecahad", "BreCaHAD histology", "Generates breast cancer histopathology images.", "512x512", ADA,
     "BreCaHAD, trained from scratch with ADA"),
]


def entries() -> list[api.CatalogEntry]:
    out = [api.CatalogEntry(
        name=name, plugin="stylegan", title=f"StyleGAN2-ADA {title}", description=f"{description} ({detail}.)",
        expects=EXPECTS, resolution=resolution, licence=LICENCE, paper=paper, source=SOURCE,
        files=(api.CatalogFile(url=f"{BASE}{name}.pkl"),), notes=NOTES)
        for name, title, description, resolution, paper, detail in MODELS]
    out.append(api.CatalogEntry(
        name="cifar10", plugin="stylegan", title="StyleGAN2-ADA CIFAR-10 (class-conditional)",
        description="Generates 32x32 images of the ten CIFAR-10 classes.", expects=EXPECTS, resolution="32x32",
        licence=LICENCE, paper=ADA, source=SOURCE, files=(api.CatalogFile(url=f"{BASE}cifar10.pkl"),),
        supported=False, reason=("it is class-conditional (10 classes); the stylegan translator runs "
                                 "unconditional generators only"), notes=NOTES))
    return out


@api.hookimpl
def translator_model_catalog() -> list[api.CatalogEntry]:
    return entries()
