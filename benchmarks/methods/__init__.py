"""SR methods: one class per file, selected through the Hydra group ``conf/method/``.

Every method implements :class:`benchmarks.methods.base.SRMethod`.
"""
