"""The PortraitSR-4K on-disk layout: row schema, shard writer/reader, manifest and verification.

- :mod:`portraitsr4k.dataset.schema`: ``FEATURES`` / ``PAIR_FEATURES`` (the Parquet row schema);
- :mod:`portraitsr4k.dataset.writer`: ``write_shard``, ``shard_name``, ``ShardInfo``;
- :mod:`portraitsr4k.dataset.reader`: ``DatasetReader``, ``Sample``;
- :mod:`portraitsr4k.dataset.manifest`: ``manifest.json`` helpers;
- :mod:`portraitsr4k.dataset.verify`: re-check a build against its manifest.
"""

from portraitsr4k.dataset.schema import FEATURES, PAIR_FEATURES, SCHEMA_VERSION, empty_row

__all__ = ["FEATURES", "PAIR_FEATURES", "SCHEMA_VERSION", "empty_row"]
