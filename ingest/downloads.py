"""Fetching the files of a feed import, from the web or the disk, bounded in size and resumable.

Small files (a feed, a transcript) are read whole, up to a limit. Audio is streamed into a
``.part`` file beside its target, which has the same name on every run, so that after a
network failure it is continued with an HTTP ``Range`` request, in this run or the next.
Network failures, size bounds and resume have nothing to do with what the files say, so they
live here, apart from the feed and the transcripts. Every failure is an ``ItemError``
(French message; the other items of the feed are still imported); ``InterruptedDownload``
says that the partial file was kept.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import httpx

from archive.settings import Settings
from ingest.audio import MIME_TYPES

MAX_BYTES = 1_000_000_000  # largest audio file downloaded for one item (1 GB), unless told otherwise
MAX_TEXT_BYTES = 50_000_000  # a feed or a transcript larger than this is not a feed or a transcript
CHUNK = 1 << 16
DOWNLOAD_ATTEMPTS = 3  # an interrupted download resumes where it stopped, this many times in one run

# Audio types of an enclosure, for URLs whose name does not end in a known extension.
AUDIO_TYPES = {
    "audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/mpeg3": "mp3", "audio/x-mpeg": "mp3",
    "audio/mp4": "m4a", "audio/x-m4a": "m4a", "audio/m4a": "m4a", "audio/aac": "aac", "audio/aacp": "aac",
    "audio/ogg": "ogg", "audio/opus": "opus", "audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav",
    "audio/flac": "flac", "audio/x-flac": "flac",
}
# What a server sends instead of audio when the link is broken (an error or login page, a feed).
NOT_AUDIO = ("text/", "application/json", "application/xml", "application/xhtml", "image/")

USER_AGENT = "Parole (import de flux podcast)"


class ItemError(Exception):
    """One item cannot be imported (the others still can); the message says why, in French."""


class InterruptedDownload(ItemError):
    """The network failed mid-download; the partial file is kept so that the next run resumes it."""


def local_path(location: str) -> Path | None:
    """The file a ``file://`` URL or a plain path names; None for a web address."""
    parts = urlsplit(location)
    if parts.scheme == "file":
        return Path(url2pathname(unquote(parts.path)))
    if parts.scheme in ("http", "https"):
        return None
    if len(parts.scheme) <= 1:  # no scheme, or a Windows drive letter
        return Path(location).expanduser()
    raise ItemError(f"adresse non prise en charge : {location} (http, https ou file seulement)")


def make_client() -> httpx.Client:
    return httpx.Client(follow_redirects=True, timeout=httpx.Timeout(30.0, read=120.0),
                        headers={"User-Agent": USER_AGENT})


HTTP_REASONS = {401: "accès refusé", 403: "accès refusé", 404: "introuvable", 410: "supprimé",
                429: "trop de requêtes"}


def _http_reason(response: httpx.Response) -> str:
    status = response.status_code
    reason = HTTP_REASONS.get(status) or ("erreur du serveur" if status >= 500 else "réponse inattendue")
    return f"le serveur a répondu {status} ({reason})"


def network_reason(error: httpx.HTTPError) -> str:
    """What went wrong on the network, in French, with the technical detail after it."""
    if isinstance(error, httpx.TimeoutException):
        what = "délai dépassé"
    elif isinstance(error, httpx.ConnectError):
        what = "connexion impossible"
    else:
        what = "erreur réseau"
    return f"{what} ({error})" if str(error) else what


def fetch_bytes(client: httpx.Client, location: str, limit: int = MAX_TEXT_BYTES) -> bytes:
    """A small file (feed, transcript) from the web or the disk, at most ``limit`` bytes."""
    path = local_path(location)
    if path is not None:
        if not path.is_file():
            raise ItemError(f"fichier introuvable : {path}")
        try:
            if path.stat().st_size > limit:
                raise ItemError(f"fichier trop volumineux ({path.stat().st_size} octets, {limit} au plus)")
            return path.read_bytes()
        except OSError as error:
            raise ItemError(f"fichier illisible : {path} ({error.strerror or error})") from error
    try:
        with client.stream("GET", location) as response:
            if response.status_code != 200:
                raise ItemError(_http_reason(response))
            body = bytearray()
            for chunk in response.iter_bytes(CHUNK):
                body += chunk
                if len(body) > limit:
                    raise ItemError(f"fichier trop volumineux (plus de {limit} octets)")
            return bytes(body)
    except httpx.HTTPError as error:
        raise ItemError(f"téléchargement impossible : {network_reason(error)}") from error


def audio_extension(url: str, declared_type: str) -> str:
    """The audio format an enclosure claims, from its file name or else its type; ItemError if none."""
    suffix = Path(unquote(urlsplit(url).path)).suffix.lower().lstrip(".")
    if suffix in MIME_TYPES:
        return suffix
    if declared_type in AUDIO_TYPES:
        return AUDIO_TYPES[declared_type]
    what = f"type « {declared_type} »" if declared_type else f"extension « .{suffix} »" if suffix else "type inconnu"
    raise ItemError(f"le fichier joint n'est pas un fichier audio pris en charge ({what})")


def _range_start(content_range: str | None) -> int | None:
    match = re.match(r"bytes\s+(\d+)-\d+/", content_range or "")
    return int(match.group(1)) if match else None


def _range_total(content_range: str | None) -> int | None:
    match = re.match(r"bytes\s+[^/]*/(\d+)", content_range or "")
    return int(match.group(1)) if match else None


def _too_big(size: int, max_bytes: int) -> ItemError:
    return ItemError(f"fichier audio trop volumineux ({size / 1e6:.0f} Mo, {max_bytes / 1e6:.0f} Mo au plus ; "
                     f"voir --max-bytes)")


def _stream_once(client: httpx.Client, url: str, part: Path, max_bytes: int) -> bool:
    """One request that appends to ``part`` (HTTP Range) or rewrites it; True when the file is complete."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"Accept-Encoding": "identity", **({"Range": f"bytes={offset}-"} if offset else {})}
    with client.stream("GET", url, headers=headers) as response:
        if offset and response.status_code == 416:
            if _range_total(response.headers.get("content-range")) == offset:
                return True  # the partial file was already whole
            part.unlink()
            return False
        if offset and response.status_code == 206 and _range_start(response.headers.get("content-range")) == offset:
            mode = "ab"
        elif response.status_code == 200:
            mode, offset = "wb", 0
        elif response.status_code == 206:  # a range we did not ask for: start again from the beginning
            part.unlink()
            return False
        else:
            raise ItemError(_http_reason(response))
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type.startswith(NOT_AUDIO):
            raise ItemError(f"le serveur a renvoyé « {content_type} » au lieu d'un fichier audio")
        length = response.headers.get("content-length", "")
        if length.isdigit() and offset + int(length) > max_bytes:
            raise _too_big(offset + int(length), max_bytes)
        written = offset
        with part.open(mode) as out:
            for chunk in response.iter_raw(CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise _too_big(written, max_bytes)
                out.write(chunk)
        if length.isdigit() and written != offset + int(length):
            raise httpx.ReadError(f"{written - offset} octets reçus sur {length} annoncés")
    return True


def download(client: httpx.Client, url: str, target: Path, max_bytes: int = MAX_BYTES) -> Path:
    """Download ``url`` to ``target`` through ``target.part``, resuming a partial download.

    A partial file left by an interrupted run (or an interrupted attempt of this one) is
    continued with an HTTP ``Range`` request when the server answers 206; a server without
    ranges sends the whole file again. Too big a file is refused as soon as that is known
    and nothing of it is kept; after a network failure the partial file stays for next time.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    source = local_path(url)
    try:
        if source is not None:
            if not source.is_file():
                raise ItemError(f"fichier introuvable : {source}")
            if source.stat().st_size > max_bytes:
                raise _too_big(source.stat().st_size, max_bytes)
            shutil.copyfile(source, part)
            return part.replace(target)
        failures = 0
        for _ in range(DOWNLOAD_ATTEMPTS * 2):
            try:
                if _stream_once(client, url, part, max_bytes):
                    return part.replace(target)
            except httpx.TransportError as error:
                failures += 1
                if failures >= DOWNLOAD_ATTEMPTS:
                    raise InterruptedDownload(f"téléchargement interrompu : {network_reason(error)} ; relancez la "
                                              "commande pour le reprendre là où il s'est arrêté") from error
        raise ItemError("le serveur ne livre pas le fichier en entier")
    except InterruptedDownload:
        raise  # keep the partial file: the next run resumes it
    except ItemError:
        part.unlink(missing_ok=True)
        raise
    except httpx.HTTPError as error:
        part.unlink(missing_ok=True)
        raise ItemError(f"téléchargement impossible : {network_reason(error)}") from error
    except OSError as error:  # a local file that cannot be read, a full disk
        part.unlink(missing_ok=True)
        raise ItemError(f"fichier impossible à lire ou à écrire ({error.strerror or error})") from error


def download_target(settings: Settings, url: str, extension: str) -> Path:
    """Where an enclosure downloads to: the same name on every run, so a partial download resumes."""
    key = hashlib.sha256(url.encode()).hexdigest()[:24]
    return settings.data_dir / "downloads" / f"{key}.{extension}"
