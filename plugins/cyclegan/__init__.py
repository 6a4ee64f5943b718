"""CycleGAN: unpaired translation both ways (Zhu et al. 2017)."""
