"""Row schema of PortraitSR-4K shards (``data/<split>-NNNNN-of-MMMMM.parquet``).

The schema is a :class:`datasets.Features`; shards are written with ``FEATURES.arrow_schema``
so the Parquet footer carries the ``huggingface`` metadata and ``datasets.load_dataset``
decodes ``hr``/``lq`` as images with no extra arguments.

Columns (one row per HR/LQ pair; all pixel coordinates are in the *HR* frame, after EXIF
orientation and after the optional crop):

- ``id``: sample id, ``sha256(source bytes)[:16]`` (+ ``-c<k>`` for the k-th crop of a photo).
- ``source``: source name and path inside it (``folder:rel/path.jpg``, ``demo:grace_hopper``,
  ``metadata:<row>``); ``url``: download URL or null; ``license``: licence string or null.
- ``source_sha256``: sha256 of the original file bytes.
- ``hr`` / ``lq``: ``{"bytes", "path"}`` image structs (``path`` is a file name only).
  ``hr_format`` says how HR bytes were made (``portraitsr4k.stages.crop.HR_FORMATS``):
  ``source`` (the original file, byte for byte: whole photo, no pixel changed), ``jpeg_crop``
  (a lossless crop of the source JPEG: the window's 8x8 DCT blocks and quantisation tables
  copied unchanged, ICC/EXIF kept; ``hr.path`` ends in ``.jpg``) or ``png`` (lossless
  re-encode of the decoded window). For every value, ``lq`` was degraded from the pixels the
  ``hr`` bytes decode to, so the ``degradation`` record replays on them.
- ``hr_width``/``hr_height``, ``lq_width``/``lq_height``, ``scale`` (``lq = hr // scale``).
- ``degradation``: JSON text of :meth:`degradations.DegradationParams.to_dict` (preset, every
  drawn parameter), enough to replay the LQ bit-exactly; ``degradation_preset`` and
  ``degradation_seed`` repeat two fields as plain columns for filtering.
- ``faces``: list of ``{bbox: [x1, y1, x2, y2], landmarks: [[x, y] x 5], score, interocular}``;
  landmarks in the order left eye, right eye, nose, left mouth corner, right mouth corner
  (image left/right, as MTCNN/RetinaFace/SCRFD emit them).
- ``identity``: identity-cluster id (``-1`` when no face embedding was made);
  ``references``: ids of *other* photos of the same person (the reference pairs).
- ``laplacian_var``, ``flat_patch_ratio``: texture scores; ``iqa``: learned IQA scores as
  ``{name, value}`` items (empty when no learned IQA model ran); ``phash``: 64-bit perceptual
  hash as 16 hex digits.
- ``split``: ``train`` or ``test``.
"""

from __future__ import annotations

from typing import Any

from datasets import Features, Image, List, Value

SCHEMA_VERSION = 1

FACE_FEATURE = {
    "bbox": List(Value("float32"), length=4),
    "landmarks": List(List(Value("float32"), length=2), length=5),
    "score": Value("float32"),
    "interocular": Value("float32"),
}

FEATURES = Features(
    {
        "id": Value("string"),
        "source": Value("string"),
        "url": Value("string"),
        "license": Value("string"),
        "source_sha256": Value("string"),
        "hr": Image(),
        "hr_format": Value("string"),
        "hr_width": Value("int32"),
        "hr_height": Value("int32"),
        "lq": Image(),
        "lq_width": Value("int32"),
        "lq_height": Value("int32"),
        "scale": Value("int32"),
        "degradation": Value("string"),
        "degradation_preset": Value("string"),
        "degradation_seed": Value("int64"),
        "faces": List(FACE_FEATURE),
        "identity": Value("int64"),
        "references": List(Value("string")),
        "laplacian_var": Value("float32"),
        "flat_patch_ratio": Value("float32"),
        "iqa": List({"name": Value("string"), "value": Value("float32")}),
        "phash": Value("string"),
        "split": Value("string"),
    }
)

# The ``pairs`` config: one row per (portrait, same-person reference from another photo).
PAIR_FEATURES = Features(
    {
        "id": Value("string"),
        "reference_id": Value("string"),
        "face_index": Value("int32"),
        "reference_face_index": Value("int32"),
        "similarity": Value("float32"),
        "identity": Value("int64"),
        "split": Value("string"),
    }
)


def empty_row() -> dict[str, Any]:
    """A row with every column present and null/empty values (for writers to fill)."""
    row: dict[str, Any] = {name: None for name in FEATURES}
    row.update(faces=[], references=[], iqa=[], identity=-1)
    return row
