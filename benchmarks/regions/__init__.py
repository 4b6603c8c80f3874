"""Image regions metrics are computed on: full image, face boxes, FFHQ-aligned faces, seam rings."""

from benchmarks.regions.extract import RegionCrop, RegionExtractor, face_box, seam_ring

__all__ = ["RegionCrop", "RegionExtractor", "face_box", "seam_ring"]
