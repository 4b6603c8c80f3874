"""Orchestration of the PortraitSR-4K build: executors, runner, shard plan, lock, status, seeds.

Entry points: :class:`portraitsr4k.build.runner.Builder` (typed, no Hydra) and
:func:`portraitsr4k.build.from_config.builder_from_config` (from ``conf/build.yaml``). Submodules
are imported where used, so importing this package is cheap.
"""
