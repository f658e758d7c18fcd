"""Small tools the tests share: run the real CLI, start the real server, make audio."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED_TESTDATA = REPO.parent / "shared" / "testdata"


def parole_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PAROLE_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    env.update(extra)
    return env


def run_parole(data_dir: Path, *args: str, timeout: float = 600, **extra_env: str) -> subprocess.CompletedProcess:
    """``parole ARGS`` in a real subprocess, as a producer would type it."""
    return subprocess.run(
        [sys.executable, "-m", "parole", *args], cwd=REPO, env=parole_env(data_dir, **extra_env),
        capture_output=True, text=True, timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    base_url: str

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_server(data_dir: Path, *options: str, **extra_env: str) -> Server:
    """``parole serve [OPTIONS]`` on a free local port, waiting until it answers."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = parole_env(data_dir, PAROLE_BASE_URL=base_url, **extra_env)
    process = subprocess.Popen([sys.executable, "-m", "parole", "serve", "--port", str(port), *options], cwd=REPO,
                               env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"le serveur s'est arrêté : {process.stderr.read()}")
        try:
            if httpx.get(base_url + "/", timeout=1).status_code == 200:
                return Server(process, base_url)
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("le serveur n'a pas répondu en 30 s")


def write_wav(path: Path, samples: np.ndarray, rate: int = 16_000) -> Path:
    """Mono 16-bit WAV from float samples in [-1, 1]."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return path


def encode_mp3(source: Path, target: Path) -> Path:
    """MP3 through the ffmpeg binary that the imageio-ffmpeg package ships."""
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(source),
                    "-codec:a", "libmp3lame", "-b:a", "64k", str(target)], check=True)
    return target
