"""StyleGAN2: generation and style mixing (Karras et al. 2020)."""
