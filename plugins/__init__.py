"""Translator's built-in plugins, installed as `translator_plugins.*`.

Each one uses only `translator.api`, exactly like a third-party plugin, and is registered through
the `translator.plugins` entry-point group.
"""
