"""pix2pix: paired image-to-image translation, sketch to photo (Isola et al. 2017)."""
