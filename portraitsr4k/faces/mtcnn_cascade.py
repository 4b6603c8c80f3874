"""MTCNN's three-stage cascade with batched, compiled area resampling (same bits as facenet-pytorch).

facenet-pytorch's ``detect_face`` resamples every candidate box with its own
``F.interpolate(mode="area")`` call: on a 1000x750 photo-like image with no face, P-Net leaves
~300 candidates and those ~300 tiny torch calls (plus the 16 pyramid levels) cost about as
much as all three networks together. Here one compiled kernel (:func:`area_resize_boxes`)
resamples every box of a stage in one call; it sums each output pixel's input window in
float32 in the same order as ATen's adaptive average pooling and divides the same way
(``sum / kh / kw``), so its outputs are bit-identical to torch's (tested on random crops and
sizes). Everything else follows ``detect_face`` step by step with the same tensors (memory
format and batch size of the network inputs included), using facenet-pytorch's own box
helpers (``generateBoundingBox``, ``rerec``, ``pad``, ``bbreg``, ``batched_nms_numpy``) and
torchvision's ``batched_nms``, so boxes, scores and landmarks equal facenet-pytorch's exactly
(``tests/faces/test_mtcnn_cascade.py`` compares them bit for bit on the shipped photos).

The networks are facenet-pytorch's P/R/O-Nets with the weights its wheel ships.
"""

from __future__ import annotations

import numpy as np
import torch

try:
    from numba import njit
except ImportError as err:  # pragma: no cover - numba is a core dependency
    raise ImportError("the MTCNN cascade compiles its resampling kernel with numba; install it with "
                      "`pip install 'numba>=0.59'` (a core dependency of portraitsr4k)") from err

__all__ = ["area_resize", "area_resize_boxes", "run_cascade"]

_NET_BATCH = 512  # facenet-pytorch's fixed_batch_process chunk (conv results may depend on it)


@njit(cache=True, nogil=True)
def _windows(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """ATen's adaptive-pooling windows ``[floor(i n_in / n_out), ceil((i + 1) n_in / n_out))``."""
    start = np.empty(n_out, np.int64)
    stop = np.empty(n_out, np.int64)
    for i in range(n_out):
        start[i] = (i * n_in) // n_out
        stop[i] = -((-(i + 1) * n_in) // n_out)
    return start, stop


@njit(cache=True, nogil=True)
def _area_window(img: np.ndarray, c: int, r0: int, c0: int, in_h: int, in_w: int, out_h: int, out_w: int,
                 out: np.ndarray) -> None:
    """``out[oh, ow]`` = mean of ``img[c, r0 + ih0:r0 + ih1, c0 + iw0:c0 + iw1]`` (ATen's windows),
    summed in float32 row by row and divided as ``sum / kh / kw``, like ATen."""
    rows0, rows1 = _windows(in_h, out_h)
    cols0, cols1 = _windows(in_w, out_w)
    for oh in range(out_h):
        kh = np.float32(rows1[oh] - rows0[oh])
        for ow in range(out_w):
            kw = np.float32(cols1[ow] - cols0[ow])
            total = np.float32(0.0)
            for ih in range(r0 + rows0[oh], r0 + rows1[oh]):
                for iw in range(c0 + cols0[ow], c0 + cols1[ow]):
                    total += img[c, ih, iw]
            out[oh, ow] = total / kh / kw


@njit(cache=True, nogil=True)
def area_resize(img: np.ndarray, out: np.ndarray) -> None:
    """``F.interpolate(img[None], size=out.shape[1:], mode="area")[0]`` into ``out``, same bits.

    ``img``: ``(C, H, W)`` float32; ``out``: ``(C, h, w)`` float32 (any ``h, w >= 1``).
    """
    channels, in_h, in_w = img.shape
    for c in range(channels):
        _area_window(img, c, 0, 0, in_h, in_w, out.shape[1], out.shape[2], out[c])


@njit(cache=True, nogil=True)
def area_resize_boxes(img: np.ndarray, y0: np.ndarray, y1: np.ndarray, x0: np.ndarray, x1: np.ndarray,
                      out: np.ndarray) -> None:
    """Area-resample the crops ``img[:, y0[k]:y1[k], x0[k]:x1[k]]`` to ``out[k]`` ``(C, s, s)``.

    ``img``: ``(C, H, W)`` float32; the box arrays: ``(K,)`` int64, non-empty, inside the image.
    """
    channels = img.shape[0]
    size_h, size_w = out.shape[2], out.shape[3]
    for k in range(y0.shape[0]):
        for c in range(channels):
            _area_window(img, c, y0[k], x0[k], y1[k] - y0[k], x1[k] - x0[k], size_h, size_w, out[k, c])


def _normalised(batch: np.ndarray, channels_last: bool) -> torch.Tensor:
    """``(N, 3, h, w)`` float32 0..255 -> the networks' input, ``(x - 127.5) / 128`` in float32.

    In the memory layout facenet-pytorch's input has, which decides the convolution algorithm
    and so the last bits: channels-last for P-Net (its pyramid levels are resampled from the
    channels-last ``permute`` of the image), contiguous for R- and O-Net (``torch.cat`` of the
    crops).
    """
    data = torch.from_numpy((batch - np.float32(127.5)) * np.float32(0.0078125))
    return data.contiguous(memory_format=torch.channels_last) if channels_last else data


def _run_net(net: torch.nn.Module, data: torch.Tensor) -> tuple[torch.Tensor, ...]:
    outs = [net(data[i:i + _NET_BATCH]) for i in range(0, len(data), _NET_BATCH)]
    return tuple(torch.cat(parts, dim=0) for parts in zip(*outs))


def _crops(img: np.ndarray, boxes: torch.Tensor, size: int) -> tuple[torch.Tensor, np.ndarray]:
    """(kept, ``(K, 3, size, size)`` crops): the boxes clipped to the image (facenet's ``pad``)
    with a non-empty part inside it, and their area-resampled crops.

    facenet-pytorch skips the crop of a box lying wholly outside the image but keeps the box,
    and then fails on mismatched lengths; such boxes are dropped here instead.
    """
    from facenet_pytorch.models.utils.detect_face import pad

    y, ey, x, ex = pad(boxes, img.shape[2], img.shape[1])
    valid = (ey > y - 1) & (ex > x - 1)
    y0, y1 = (y[valid] - 1).astype(np.int64), ey[valid].astype(np.int64)
    x0, x1 = (x[valid] - 1).astype(np.int64), ex[valid].astype(np.int64)
    out = np.empty((len(y0), 3, size, size), np.float32)
    area_resize_boxes(img, y0, y1, x0, x1, out)
    return torch.from_numpy(valid), out


def run_cascade(rgb: np.ndarray, pnet: torch.nn.Module, rnet: torch.nn.Module, onet: torch.nn.Module, *,
                min_face: float, thresholds: tuple[float, float, float],
                factor: float) -> tuple[np.ndarray, np.ndarray]:
    """Detect faces in one image with MTCNN, exactly as facenet-pytorch's ``MTCNN.detect``.

    Args:
        rgb: ``(H, W, 3)`` uint8 RGB.
        pnet, rnet, onet: facenet-pytorch's networks (CPU, eval mode).
        min_face: smallest face searched for (px); the pyramid starts at ``12 / min_face``.
        thresholds: P-, R- and O-Net score thresholds.
        factor: pyramid step.

    Returns:
        ``(boxes, points)``: ``(N, 5) float32`` rows ``x1, y1, x2, y2, score`` and
        ``(N, 5, 2) float32`` landmarks, ordered like facenet-pytorch's ``select_largest``
        (largest box first); ``N`` may be 0.
    """
    from facenet_pytorch.models.utils.detect_face import (
        batched_nms_numpy,
        bbreg,
        generateBoundingBox,
        rerec,
    )
    from torchvision.ops.boxes import batched_nms

    img = np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32)  # (3, H, W) 0..255
    h, w = img.shape[1:]
    scale = 12.0 / min_face
    side = min(h, w) * scale
    scales = []
    while side >= 12:
        scales.append(scale)
        scale *= factor
        side *= factor

    if not scales:  # the image is smaller than the smallest face searched for
        return np.zeros((0, 5), np.float32), np.zeros((0, 5, 2), np.float32)

    # Stage 1: P-Net over the pyramid, NMS per scale then over all scales.
    candidates, picks, offset = [], [], 0
    for s in scales:
        level = np.empty((1, 3, int(h * s + 1), int(w * s + 1)), np.float32)
        area_resize(img, level[0])
        reg, probs = pnet(_normalised(level, channels_last=True))
        found, inds = generateBoundingBox(reg, probs[:, 1], s, thresholds[0])
        candidates.append(found)
        picks.append(batched_nms(found[:, :4], found[:, 4], inds, 0.5) + offset)
        offset += found.shape[0]
    boxes = torch.cat(candidates, dim=0)[torch.cat(picks, dim=0)]
    image_inds = torch.zeros(len(boxes), dtype=torch.int64)
    keep = batched_nms(boxes[:, :4], boxes[:, 4], image_inds, 0.7)
    boxes, image_inds = boxes[keep], image_inds[keep]
    widths, heights = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    boxes = torch.stack([boxes[:, 0] + boxes[:, 5] * widths, boxes[:, 1] + boxes[:, 6] * heights,
                         boxes[:, 2] + boxes[:, 7] * widths, boxes[:, 3] + boxes[:, 8] * heights,
                         boxes[:, 4]]).permute(1, 0)
    boxes = rerec(boxes)

    # Stage 2: R-Net on 24x24 crops.
    if len(boxes) > 0:
        kept, crops = _crops(img, boxes, 24)
        boxes, image_inds = boxes[kept], image_inds[kept]
    if len(boxes) > 0:
        regression, scores = _run_net(rnet, _normalised(crops, channels_last=False))
        score = scores.permute(1, 0)[1, :]
        passed = score > thresholds[1]
        boxes = torch.cat((boxes[passed, :4], score[passed].unsqueeze(1)), dim=1)
        image_inds = image_inds[passed]
        moves = regression.permute(1, 0)[:, passed].permute(1, 0)
        keep = batched_nms(boxes[:, :4], boxes[:, 4], image_inds, 0.7)
        boxes, image_inds = rerec(bbreg(boxes[keep], moves[keep])), image_inds[keep]

    # Stage 3: O-Net on 48x48 crops, landmarks, final NMS with the "Min" overlap.
    points = torch.zeros(0, 5, 2)
    if len(boxes) > 0:
        kept, crops = _crops(img, boxes, 48)
        boxes, image_inds = boxes[kept], image_inds[kept]
    if len(boxes) > 0:
        regression, marks, scores = _run_net(onet, _normalised(crops, channels_last=False))
        score = scores.permute(1, 0)[1, :]
        passed = score > thresholds[2]
        marks = marks.permute(1, 0)[:, passed]
        boxes = torch.cat((boxes[passed, :4], score[passed].unsqueeze(1)), dim=1)
        image_inds = image_inds[passed]
        moves = regression.permute(1, 0)[:, passed].permute(1, 0)
        box_w = boxes[:, 2] - boxes[:, 0] + 1
        box_h = boxes[:, 3] - boxes[:, 1] + 1
        points_x = box_w.repeat(5, 1) * marks[:5, :] + boxes[:, 0].repeat(5, 1) - 1
        points_y = box_h.repeat(5, 1) * marks[5:10, :] + boxes[:, 1].repeat(5, 1) - 1
        points = torch.stack((points_x, points_y)).permute(2, 1, 0)
        boxes = bbreg(boxes, moves)
        keep = batched_nms_numpy(boxes[:, :4], boxes[:, 4], image_inds, 0.7, "Min")
        boxes, points = boxes[keep], points[keep]

    out_boxes = boxes.numpy().reshape(-1, 5)
    out_points = points.numpy().reshape(-1, 5, 2)
    order = np.argsort((out_boxes[:, 2] - out_boxes[:, 0]) * (out_boxes[:, 3] - out_boxes[:, 1]))[::-1]
    return out_boxes[order], out_points[order]
