"""Metrics: one class per file, selected through the Hydra group ``conf/metric/``.

Every metric implements :class:`benchmarks.metrics.base.Metric`; its metadata (kind, direction,
range, pixel convention) is given in its YAML beside its name.
"""
