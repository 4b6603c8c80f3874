"""Console entry points ``headsup-train`` and ``headsup-sr`` (the only code that sees DictConfig)."""
