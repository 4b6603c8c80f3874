"""Map a torch-style device string to onnxruntime execution providers (SCRFD, ArcFace)."""

from __future__ import annotations

__all__ = ["onnx_providers"]


def onnx_providers(device: str) -> list[str]:
    """onnxruntime execution providers for a torch-style device string."""
    if not isinstance(device, str):
        raise TypeError(f"device: expected a string such as 'cpu' or 'cuda', got {type(device).__name__}")
    if device.startswith("cuda"):
        import onnxruntime

        if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
            raise ValueError(f"device={device!r} but this onnxruntime has no CUDAExecutionProvider; "
                             "install onnxruntime-gpu or use device='cpu'")
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device != "cpu":
        raise ValueError(f"device: expected 'cpu' or 'cuda[:N]', got {device!r}")
    return ["CPUExecutionProvider"]
