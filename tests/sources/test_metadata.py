"""MetadataSource: column mapping, prefilter before download, CSV and Parquet, downloads."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from portraitsr4k.sources import HttpFetcher, MetadataSource


def _url(server, path: str) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}{path}"


def _table(server) -> dict[str, list]:
    return {
        "URL": [_url(server, "/good.jpg"), _url(server, "/small.jpg"), _url(server, "/pano.jpg"),
                _url(server, "/noai.jpg"), _url(server, "/unknown.jpg"), None, _url(server, "/portrait.jpg"),
                _url(server, "/almost.jpg")],
        "WIDTH": [4000, 1920, 8000, 4000, None, 4000, 2400, 4000],
        "HEIGHT": [3000, 1080, 2000, 6000, None, 3000, 3840, 2070],
        "LICENSE": ["cc0", "cc-by", "cc0", "cc-by-sa", "cc0", "cc0", "cc-by-nc", "cc0"],
    }


def _source(path: Path, **kw) -> MetadataSource:
    fetcher = HttpFetcher(read_timeout=1.0, retries=0, backoff=0.0, max_bytes=50_000)
    return MetadataSource(path, url_column="URL", width_column="WIDTH", height_column="HEIGHT",
                          license_column="LICENSE", fetcher=fetcher, **kw)


def test_prefilter_parquet(tmp_path: Path, http_server) -> None:
    path = tmp_path / "laion-part.parquet"
    pq.write_table(pa.table(_table(http_server)), path)
    source = _source(path)
    items = list(source.items())
    assert [i.key for i in items] == [f"metadata:laion-part:{n:012d}" for n in (0, 3, 6)]
    assert items[0].width == 4000 and items[0].height == 3000 and items[0].license == "cc0"
    # 16:9 UHD fails the paper's aspect band; 4000x2070 is 14,400 pixels short of 3840x2160.
    assert source.prefilter(3840, 2160) == "metadata_aspect"
    assert source.prefilter(3840, 2400) is None and source.prefilter(2400, 3840) is None
    assert dict(source.prefilter_counts) == {
        "listed": 3, "metadata_too_small": 2, "metadata_aspect": 1, "metadata_unknown_size": 1, "metadata_no_url": 1}
    assert http_server.hits == {}  # nothing downloaded while listing
    results = [source.fetch(i) for i in items]
    assert results[0].status == "ok" and results[0].data == http_server.body
    assert results[1].status == "rejected:opt_out"
    assert results[2].status == "error:http_404"
    assert http_server.hits["/small.jpg"] == 0 and http_server.hits["/pano.jpg"] == 0


def test_csv_and_report_prefiltered(tmp_path: Path, http_server) -> None:
    import csv

    data = _table(http_server)
    path = tmp_path / "pcb.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(data))
        for row in zip(*data.values()):
            writer.writerow(["" if v is None else v for v in row])
    source = _source(path, report_prefiltered=True, keep_unknown_size=True)
    items = list(source.items())
    assert len(items) == 8
    statuses = [source.fetch(i).status for i in items]
    assert statuses == ["ok", "rejected:metadata_too_small", "rejected:metadata_aspect", "rejected:opt_out",
                        "error:http_404", "rejected:metadata_no_url", "error:http_404",
                        "rejected:metadata_too_small"]
    assert http_server.hits["/small.jpg"] == 0


def test_folder_of_parts_and_missing_columns(tmp_path: Path, http_server) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    table = pa.table(_table(http_server))
    pq.write_table(table.slice(0, 4), parts / "part-1.parquet")
    pq.write_table(table.slice(4), parts / "part-0.parquet")
    keys = [i.key for i in _source(parts).items()]
    assert keys == ["metadata:part-0:000000000002", "metadata:part-1:000000000000", "metadata:part-1:000000000003"]
    with pytest.raises(ValueError, match=r"lacks columns \['url', 'width', 'height', 'license'\]; it has \['URL'"):
        list(MetadataSource(parts / "part-1.parquet").items())


def test_license_for_whole_table(tmp_path: Path, http_server) -> None:
    path = tmp_path / "pd12m.parquet"
    pq.write_table(pa.table({"url": [_url(http_server, "/good.jpg")], "width": [5000], "height": [4000]}), path)
    (item,) = MetadataSource(path, license_column=None, license="public domain").items()
    assert item.license == "public domain"
