"""Hydra configs of portraitsr4k, installed as ``portraitsr4k.conf`` (see setup.py).

Each sub-folder is a config group; one YAML per swappable part with a ``_target_``.
"""
