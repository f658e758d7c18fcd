"""The glossary: words the recogniser should spell right (institutions, job titles, acronyms, names, places).

Two lists, one term a line (UTF-8, ``#`` starts a comment, blank lines ignored):

- the programme's built-in vocabulary, ``ingest/data/glossaire-emission.txt``, shipped with Parole;
- the producers' file, ``settings.glossary_path``, edited in the studio (``/studio/glossaire``)
  and fed by their corrections: a name they typed into a transcript is one click away from it.

``hotwords_for`` turns them, with an episode's own terms (``episode_terms``), into the string
given to faster-whisper's ``hotwords``, bounded so that it always fits the decoder's prompt.
Pure functions over plain data and one small text file: nothing here loads a model.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: the thread lock alone
    fcntl = None

from archive.records import EpisodeMeta
from archive.settings import Settings

BUILTIN_PATH = Path(__file__).parent / "data" / "glossaire-emission.txt"
MAX_TERM_CHARS = 60
"""The longest term: a name, an institution or a job title, never a sentence."""
MAX_TERMS = 500
"""The most terms in the producers' file (the studio shows them all; only the first ones reach the recogniser)."""
MAX_COMMENT_CHARS = 200
MAX_TEXT_CHARS = 100_000
"""The most text the studio's textarea may send (500 terms of 60 characters, comments and blank lines)."""
_MAX_READ_BYTES = 1_000_000  # a hand-edited file is read up to this size, never whole if it is huge

# Whisper's decoder takes at most 448 tokens, half of them (223) for the prompt that carries the hotwords;
# faster-whisper cuts a longer prompt at 223 tokens, in the middle of a term. French terms of this
# programme take one token for 2 to 3 characters (the built-in list: 2.7), so 400 characters are about
# 150 tokens: well inside the limit, with room left for names full of accents and capitals.
HOTWORDS_MAX_CHARS = 400
# With a real tokenizer (``count_tokens``), the hard limit: 223 tokens, less a margin for the separators.
HOTWORDS_MAX_TOKENS = 200
SEPARATOR = ", "

_COMMENT = "#"
_HEADER = ("# Glossaire des producteurs : un terme par ligne (noms d'invités, lieux, organismes, sigles).\n"
           "# Modifié dans le studio, page « Glossaire » ; les lignes qui commencent par # sont ignorées.\n")


# -- cleaning ------------------------------------------------------------------------------


def _is_invisible(char: str) -> bool:
    """Control characters (Cc), format characters (Cf: bidi overrides, zero widths), separators other than space."""
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") or (char.isspace() and char != " ")


def clean_line(text: str) -> str:
    """NFC, control and invisible characters turned into spaces, whitespace collapsed and trimmed."""
    text = unicodedata.normalize("NFC", text)
    return " ".join("".join(" " if _is_invisible(char) else char for char in text).split())


def clean_term(text: str) -> str:
    """A term as stored: ``clean_line`` without leading ``#`` (it would turn the line into a comment).

    Raises ValueError (French) when nothing is left, when the text is too long, or unreadable.
    """
    term = clean_line(text).lstrip(_COMMENT).strip()
    if not term:
        raise ValueError("Terme vide : écrivez un mot ou un nom.")
    if len(term) > MAX_TERM_CHARS:
        raise ValueError(f"Terme trop long ({len(term)} caractères) : {MAX_TERM_CHARS} caractères au plus "
                         f"(« {term[:30]}… »).")
    if "\ufffd" in term:
        raise ValueError(f"Le terme « {term} » contient un caractère illisible (�) : corrigez-le.")
    return term


def _key(term: str) -> str:
    return unicodedata.normalize("NFC", term).casefold()


def _unique(terms: Iterable[str]) -> list[str]:
    """Duplicates removed case-insensitively, the first spelling kept."""
    seen: set[str] = set()
    kept = []
    for term in terms:
        if term and _key(term) not in seen:
            seen.add(_key(term))
            kept.append(term)
    return kept


# -- reading -------------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    """The file's text; bad bytes become U+FFFD rather than an error; a missing file is empty."""
    try:
        with path.open("rb") as file:
            data = file.read(_MAX_READ_BYTES)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return ""
    return data.decode("utf-8", errors="replace").removeprefix("\ufeff")


def _terms_in(text: str, limit: int | None = None) -> list[str]:
    """The readable terms of a glossary text, in order; lines that are not valid terms are skipped."""
    terms = []
    for line in text.splitlines():
        line = clean_line(line)
        if not line or line.startswith(_COMMENT):
            continue
        try:
            terms.append(clean_term(line))
        except ValueError:
            continue  # hand-edited: too long or unreadable; the studio shows the line and refuses to save it
    terms = _unique(terms)
    return terms[:limit] if limit is not None else terms


def builtin_terms() -> list[str]:
    """The programme's own vocabulary, shipped with Parole."""
    return _terms_in(_read_text(BUILTIN_PATH))


def producer_terms(settings: Settings) -> list[str]:
    """The producers' terms (``settings.glossary_path``); none when the file does not exist yet."""
    return _terms_in(_read_text(settings.glossary_path), MAX_TERMS)


def producer_text(settings: Settings) -> str:
    """The producers' file as they wrote it, comments included (the studio's textarea)."""
    return _read_text(settings.glossary_path)


def read_glossary(settings: Settings) -> list[str]:
    """Every term: the built-in list, then the producers' terms; duplicates (any case) kept once."""
    return _unique(builtin_terms() + producer_terms(settings))


# -- writing -------------------------------------------------------------------------------


def _write_atomically(path: Path, text: str) -> None:
    """Temporary file in the same folder, fsync, rename: readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    try:  # the rename itself survives a power cut once the folder is synced (POSIX only)
        folder = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(folder)
    except OSError:
        pass
    finally:
        os.close(folder)


_WRITING = threading.Lock()


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """One writer at a time, across threads and processes (two producers adding a term at the same moment)."""
    with _WRITING:
        if fcntl is None:
            yield
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _too_many(count: int) -> ValueError:
    return ValueError(f"Le glossaire des producteurs est limité à {MAX_TERMS} termes ({count} demandés) : "
                      "retirez ceux qui ne servent plus.")


def add_terms(settings: Settings, terms: Iterable[str]) -> list[str]:
    """Append the terms not in the glossary yet (any case) to the producers' file; returns those added.

    Each term is cleaned (``clean_term``); one that cannot be (empty, too long, unreadable) refuses the
    whole addition with a French ValueError, and so does going over ``MAX_TERMS``. Nothing is written then.
    """
    cleaned = []
    for term in terms:
        if clean_line(term):  # blank entries (an empty form field) are no request at all
            cleaned.append(clean_term(term))
    path = settings.glossary_path
    with _exclusive(path):
        text = producer_text(settings)
        existing = _terms_in(text)
        known = {_key(term) for term in builtin_terms() + existing}
        new = [term for term in _unique(cleaned) if _key(term) not in known]
        if not new:
            return []
        if len(existing) + len(new) > MAX_TERMS:
            raise _too_many(len(existing) + len(new))
        if not text.strip():
            text = _HEADER
        if not text.endswith("\n"):
            text += "\n"
        _write_atomically(path, text + "".join(f"{term}\n" for term in new))
    return new


def write_glossary(settings: Settings, text: str) -> list[str]:
    """Replace the producers' file with the studio's textarea; returns the terms it now holds.

    Comment lines are kept (cleaned, cut at ``MAX_COMMENT_CHARS``), blank lines too; every other line
    must be a valid term (``clean_term``), or nothing is written and the French ValueError names the line.
    A term written twice (any case) is kept once.
    """
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"Texte trop long ({len(text)} caractères, {MAX_TEXT_CHARS} au plus) : "
                         f"le glossaire tient en {MAX_TERMS} termes de {MAX_TERM_CHARS} caractères.")
    lines: list[str] = []
    terms: list[str] = []
    seen: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = clean_line(raw)
        if not line:
            if lines and lines[-1]:  # one blank line at most between groups
                lines.append("")
            continue
        if line.startswith(_COMMENT):
            lines.append(line[:MAX_COMMENT_CHARS])
            continue
        try:
            term = clean_term(line)
        except ValueError as error:
            raise ValueError(f"Ligne {number} : {error}") from error
        if _key(term) in seen:
            continue
        seen.add(_key(term))
        terms.append(term)
        lines.append(term)
    if len(terms) > MAX_TERMS:
        raise _too_many(len(terms))
    while lines and not lines[-1]:
        lines.pop()
    with _exclusive(settings.glossary_path):
        _write_atomically(settings.glossary_path, "".join(f"{line}\n" for line in lines))
    return terms


# -- for the recogniser --------------------------------------------------------------------


def hotwords_for(settings: Settings, episode_terms: Iterable[str] = (), *, max_chars: int = HOTWORDS_MAX_CHARS,
                 count_tokens: Callable[[str], int] | None = None,
                 max_tokens: int = HOTWORDS_MAX_TOKENS, include_builtin: bool = True) -> str | None:
    """The ``hotwords`` string for faster-whisper, or None when there is no term at all.

    Priority: the episode's own terms (guests, roles, organisations, places), then the producers',
    then the programme's built-in ones; each term once (any case). Terms are kept whole, in that
    order, while the string stays within ``max_chars`` (and within ``max_tokens`` when a
    ``count_tokens`` function, e.g. the model's tokenizer, is given): the lowest-priority terms are
    the ones left out, and no term is ever cut. ``include_builtin=False`` leaves the programme's
    list out (the transcription does: words Whisper already knows only cost accuracy in a prompt).
    """
    candidates = []
    for term in episode_terms:
        try:
            candidates.append(clean_term(term))
        except ValueError:
            continue  # a role too long to be a useful hotword: the shorter terms still count
    ordered = _unique(candidates + producer_terms(settings) + (builtin_terms() if include_builtin else []))
    kept: list[str] = []
    length = 0
    for term in ordered:
        added = len(term) + (len(SEPARATOR) if kept else 0)
        if length + added > max_chars:
            break
        if count_tokens is not None and count_tokens(SEPARATOR.join([*kept, term])) > max_tokens:
            break
        kept.append(term)
        length += added
    return SEPARATOR.join(kept) or None


# -- an episode's own terms ----------------------------------------------------------------

_WORD = re.compile(r"[^\W_](?:[\w'’\-]*[^\W_])?")
_ELISION = re.compile(r"^(?:[dlmnstcj]|qu|jusqu|lorsqu|puisqu)['’](?=\w)", re.IGNORECASE)
# Capitalised words that start a sentence or a role without being a name.
_COMMON_WORDS = (
    "le la les l un une des du de d au aux ce cet cette ces et ou mais donc or ni car alors puis ensuite "
    "il elle ils elles on nous vous je j tu me moi toi lui leur eux en y à a dans pour par sur sous avec "
    "sans chez vers entre comme quand si que qui quoi où oui non bon ben bah euh voilà enfin aussi "
    "c ça cela ceci très bien merci bonjour madame monsieur mon ma mes ton ta tes son sa ses notre votre "
    "nos vos leurs est sont était ai as avons avez ont")
_COMMON = frozenset(_key(word) for word in _COMMON_WORDS.split())
_TITLES = frozenset(("madame", "monsieur", "mademoiselle", "mme", "mlle", "m"))


def _word_spans(text: str) -> list[tuple[str, int, int]]:
    """Each word with where its token starts and ends; an elided article or preposition (d', l', qu')
    is left out of the word (``d'Orléans`` → ``Orléans``), not of the token."""
    spans = []
    for match in _WORD.finditer(text):
        word = match.group()
        elision = _ELISION.match(word)
        if elision and len(word) > elision.end():
            word = word[elision.end():]
        spans.append((word, match.start(), match.end()))
    return spans


def _is_acronym(word: str) -> bool:
    letters = [char for char in word if char.isalpha()]
    return len(letters) >= 2 and all(char.isupper() for char in letters)


def _is_compound_name(word: str) -> bool:
    """``Saint-Étienne``, ``McDonald``: a capital inside the word, or a hyphenated word with a capital part."""
    if any(a.islower() and b.isupper() for a, b in zip(word, word[1:], strict=False)):
        return True
    parts = re.split(r"[-'’]", word)
    return len(parts) > 1 and any(part[:1].isupper() for part in parts)


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper()


def _sentence_start(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t\"'«»“”‘’()[]-–—")
    return not before or before[-1] in ".!?…:;\n"


def _name_runs(text: str) -> list[str]:
    """Runs of consecutive name-like words: ``Jo Spiegel``, ``La Rochelle``, ``CNFPT``, ``Saint-Étienne``.

    A capitalised word counts when it does not start a sentence (or when it is an acronym or a compound
    name); a sentence's first word joins the run that follows it unless it is a common word (Le, Alors…).
    """
    runs: list[list[str]] = []
    current: list[str] = []
    pending: str | None = None  # a capitalised first word of a sentence, waiting to see what follows
    previous_end = 0
    for word, start, end in _word_spans(text):
        contiguous = not text[previous_end:start].strip()  # only spaces between: the same name may go on
        previous_end = end
        if not contiguous:
            if current:
                runs.append(current)
            current, pending = [], None
        strong = _is_acronym(word) or _is_compound_name(word)
        at_start = _sentence_start(text, start)
        if strong or (_is_capitalised(word) and not at_start):
            if not current and pending:
                current.append(pending)
            current.append(word)
            pending = None
            continue
        if current:
            runs.append(current)
        current = []
        pending = word if at_start and _is_capitalised(word) and _key(word) not in _COMMON else None
    if current:
        runs.append(current)
    names = []
    for run in runs:
        while run and _key(run[0]) in _TITLES:
            run = run[1:]  # "Madame Dupont" → Dupont
        if any(_key(word) not in _COMMON or _is_acronym(word) for word in run):  # "La Rochelle", never "La" alone
            names.append(" ".join(run))
    return names


def episode_terms(meta: EpisodeMeta) -> list[str]:
    """An episode's own terms, from the guests given at upload: names, then places and acronyms found in
    their roles and organisations (``maire de Kingersheim`` → ``Kingersheim``), then organisations, then roles.
    """
    names = [guest.name for guest in meta.guests]
    places = [name for guest in meta.guests for text in (guest.role, guest.organisation)
              for name in _name_runs(text) if _key(name) != _key(text)]
    organisations = [guest.organisation for guest in meta.guests]
    roles = [guest.role for guest in meta.guests]
    terms = []
    for term in names + places + organisations + roles:
        line = clean_line(term)
        if line and len(line) <= MAX_TERM_CHARS and "\ufffd" not in line:
            terms.append(line.lstrip(_COMMENT).strip())
    return _unique(terms)


# -- what producers' corrections teach -----------------------------------------------------


def _contains(text: str, phrase: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(phrase)}(?![\w])", text) is not None


def suggestions_from_corrections(pairs: Iterable[tuple[str | None, str]], known: Iterable[str] = (),
                                 limit: int = 50) -> list[str]:
    """Names, places and acronyms a producer typed that the machine had not written, for the glossary.

    ``pairs`` are (machine text, corrected text). A suggestion is a run of name-like words (capitalised
    inside a sentence, an acronym of two capitals or more, or a compound like ``Saint-Étienne``) of the
    corrected text that the machine's text does not contain as such, and that ``known`` (the glossary)
    does not hold in any case. The most frequent first (ties: the first seen), at most ``limit``.
    """
    known_keys = {_key(term) for term in known}
    counts: Counter[str] = Counter()
    spelling: dict[str, str] = {}
    for machine, corrected in pairs:
        machine, corrected = clean_line(machine or ""), clean_line(corrected or "")
        if not corrected or machine == corrected:
            continue
        for name in dict.fromkeys(_name_runs(corrected)):  # once per passage: frequency across passages
            if len(name) > MAX_TERM_CHARS or _key(name) in known_keys or _contains(machine, name):
                continue
            key = _key(name)
            spelling.setdefault(key, name)
            counts[key] += 1
    ranked = sorted(counts, key=lambda key: -counts[key])  # stable: ties keep the order first seen
    return [spelling[key] for key in ranked[:limit]]
