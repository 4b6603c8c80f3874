"""Where the builder's input photos come from: ``folder``, ``metadata`` (URLs) and ``demo``.

Each source is a class with typed keyword arguments and a Hydra config in ``conf/source/``;
``items()`` lists :class:`SourceItem` records in a deterministic order and ``fetch(item)``
returns a :class:`FetchResult` (never raises).
"""

from portraitsr4k.sources.base import FetchResult, Source, SourceItem
from portraitsr4k.sources.demo import DemoSource
from portraitsr4k.sources.folder import FolderSource
from portraitsr4k.sources.http import HttpFetcher
from portraitsr4k.sources.metadata import MetadataSource

__all__ = ["DemoSource", "FetchResult", "FolderSource", "HttpFetcher", "MetadataSource", "Source", "SourceItem"]
