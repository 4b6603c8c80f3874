"""The verdict of one stage on one sample: ``ok``, ``rejected:<reason>`` or ``error:<kind>``.

``rejected:*`` means the pipeline worked and the input does not qualify (too small, no face,
undecodable file, near duplicate ...); ``error:*`` means something failed that should not
(an exception in our code, a crashed worker, a failed download). Only ``error:*`` counts
against ``max_error_share``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["StageOutcome", "ok", "rejected", "error", "is_error", "is_rejected", "reason_token"]

_STATUS = re.compile(r"^(ok|rejected:[a-z0-9_]+|error:[a-z0-9_]+)$")


def reason_token(text: str) -> str:
    """``text`` as a status token: lower case, runs of other characters become ``_``."""
    token = re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")
    return token or "unknown"


@dataclass(frozen=True)
class StageOutcome:
    """One stage's verdict. ``seconds`` is the wall time the stage took."""

    stage: str
    status: str
    message: str = ""
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if not _STATUS.match(self.status):
            raise ValueError(
                f"status must be 'ok', 'rejected:<reason>' or 'error:<kind>' (lower-case tokens), "
                f"got {self.status!r}"
            )
        if not self.stage:
            raise ValueError("stage must be a non-empty name")

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def ok(stage: str, message: str = "", seconds: float = 0.0) -> StageOutcome:
    return StageOutcome(stage, "ok", message, seconds)


def rejected(stage: str, reason: str, message: str, seconds: float = 0.0) -> StageOutcome:
    return StageOutcome(stage, f"rejected:{reason_token(reason)}", message, seconds)


def error(stage: str, kind: str, message: str, seconds: float = 0.0) -> StageOutcome:
    return StageOutcome(stage, f"error:{reason_token(kind)}", message, seconds)


def is_error(status: str) -> bool:
    return status.startswith("error:")


def is_rejected(status: str) -> bool:
    return status.startswith("rejected:")
