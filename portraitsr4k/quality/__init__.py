"""Image-quality scores for the builder: texture (Laplacian band, Sobel flat patches) and learned IQA."""

from portraitsr4k.quality.texture import TextureScores, flat_patch_ratio, laplacian_variance, texture_scores

__all__ = ["TextureScores", "flat_patch_ratio", "laplacian_variance", "texture_scores"]
