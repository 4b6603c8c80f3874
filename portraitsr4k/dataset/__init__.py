"""The PortraitSR-4K on-disk layout: schema, shard reading (writing lives with the builder)."""

from portraitsr4k.dataset.schema import FEATURES, PAIR_FEATURES, SCHEMA_VERSION, empty_row

__all__ = ["FEATURES", "PAIR_FEATURES", "SCHEMA_VERSION", "empty_row"]
