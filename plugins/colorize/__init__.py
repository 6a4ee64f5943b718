"""Colorize: black-and-white to colour with optional colour hints (Zhang et al. 2016, 2017)."""
