"""French typography for the machine transcript.

Whisper writes French the way English is set: "vous pensez?" without a space, straight
apostrophes and quotes, "10000" or "10.000", "3.5%". Readers of the pages, feeds and
subtitles expect French rules: a no-break space before the high punctuation (so a "?"
never starts a line), curly apostrophes, « guillemets », grouped thousands, decimal
commas and capitalised sentences.

Everything here is a pure function of the text and idempotent, so a transcript can go
through it again (after an edit, a re-import) without drifting. URLs and e-mail
addresses are left exactly as written, and "10:30" stays a time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher

NNBSP = "\u202f"  # narrow no-break space: before ? ! ; and %, between groups of thousands
NBSP = "\u00a0"  # no-break space: before :, inside « »
APOSTROPHE = "\u2019"

_LETTER = r"[^\W\d_]"
# Left exactly as written: a rule must never add a space in "https://x.fr/?q=1" or capitalise it.
_VERBATIM = re.compile(
    r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)[^\s\"«»<>]*[^\s\"«»<>.,;:!?)\]']"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s+")
_APOSTROPHE = re.compile(rf"(?<={_LETTER})'(?={_LETTER})")
_STRAIGHT_QUOTED = re.compile(r'"([^"]*)"')
_CURLY_QUOTED = re.compile(r"“([^“”]*)”")
_OPENING = re.compile(r"«\s*")
_CLOSING = re.compile(r"\s*»")
# Numbers: never inside a word, nor the digits after a decimal separator.
_DOTTED = re.compile(r"(?<![\w.,])\d+(?:\.\d+)+(?!\w|[.,]\d)")
_SPACED = re.compile(rf"(?<![\w.,])\d{{1,3}}(?:[ {NBSP}{NNBSP}]\d{{3}})+(?!\d|\.\d)")
_LONG = re.compile(r"(?<![\w.,])[1-9]\d{4,}(?!\d|\.\d)")  # a leading 0 is a code or a phone number, not a quantity
_PERCENT = re.compile(r"(?<=\d)\s*%")
# High punctuation after a word (not after another mark or an opening bracket).
_HIGH = re.compile(r"(?<=[^\s?!;:«(\[])\s*([?!;]+)")
# A colon is punctuation only when a space or the end follows: "10:30", "https:" and "a:b" are not.
_COLON = re.compile(r"(?<=[^\s?!;:«(\[])\s*:(?=\s|$)")
_SENTENCE_START = re.compile(rf"(^|[.?!…]\s+)([«“\"(\[\s]*)({_LETTER})")
_INITIAL = re.compile(rf"(?:^|\s){_LETTER}\.$")  # "M. le maire", "J. Dupont": not a sentence end


def french_typography(text: str, sentence_start: bool = True) -> str:
    """The text set by French rules; ``sentence_start=False`` leaves its first letter alone
    (the text continues a sentence begun before it)."""
    text, verbatim, mark = _set_aside(text)
    text = _SPACES.sub(_one_space, text)
    text = _APOSTROPHE.sub(APOSTROPHE, text)
    text = guillemets(text)
    text = numbers(text)
    text = punctuation_spaces(text)
    text = capitalise_sentences(text, sentence_start).strip()
    return _put_back(text, verbatim, mark)


def typeset_words(pieces: Sequence[str], sentence_start: bool = True) -> tuple[str, list[str]]:
    """The typeset text of words joined, and the words re-cut from it.

    Whisper's words carry their leading space (" Kingersheim?"); the text is their join. The
    returned words still join to the text (after their first leading space), so subtitle
    timings that count characters word by word, and the review page that shows words,
    agree with the text: " Kingersheim?" becomes " Kingersheim" + NNBSP + "?", and " oui." after it " Oui.".
    """
    joined = "".join(pieces)
    body = joined.strip()
    text = french_typography(body, sentence_start)
    lead = joined[:len(joined) - len(joined.lstrip())] if body else ""
    return text, recut(pieces, lead + text)


def guillemets(text: str) -> str:
    """ "Quoted" and “quoted” passages in « guillemets » with a no-break space inside."""
    text = _STRAIGHT_QUOTED.sub(_quoted, text)
    previous = None
    while text != previous:  # curly quotes may nest: inner pairs first
        previous, text = text, _CURLY_QUOTED.sub(_quoted, text)
    text = _OPENING.sub("«" + NBSP, text)
    return _CLOSING.sub(NBSP + "»", text)


def numbers(text: str) -> str:
    """One way to write numbers: "10 000" (narrow no-break space), "3,5", "20 %".

    Four-digit numbers stay unspaced ("2024" is a year more often than not); "1.500" is left
    as written, since it could be 1,5 or 1 500.
    """
    text = _DOTTED.sub(_dotted, text)
    text = _LONG.sub(lambda match: group_thousands(match.group()), text)
    text = _SPACED.sub(lambda match: group_thousands(re.sub(r"\D", "", match.group())), text)
    return _PERCENT.sub(NNBSP + "%", text)


def group_thousands(digits: str) -> str:
    """ "1234567" → "1 234 567" with narrow no-break spaces."""
    head = len(digits) % 3 or 3
    return NNBSP.join([digits[:head], *(digits[i:i + 3] for i in range(head, len(digits), 3))])


def punctuation_spaces(text: str) -> str:
    """A narrow no-break space before ? ! ; and a no-break space before :, never two."""
    text = _HIGH.sub(NNBSP + r"\1", text)
    return _COLON.sub(NBSP + ":", text)


def capitalise_sentences(text: str, sentence_start: bool = True) -> str:
    """An upper-case first letter for the text and after . ? ! …; the rest of the word is kept."""

    def capital(match: re.Match[str]) -> str:
        end, opening, letter = match.groups()
        if not end and not sentence_start:
            return match.group()
        if end.startswith(".") and _INITIAL.search(text, 0, match.start() + 1):
            return match.group()
        upper = letter.upper()
        return end + opening + (upper if letter.islower() and len(upper) == 1 else letter)

    return _SENTENCE_START.sub(capital, text)


def recut(pieces: Sequence[str], target: str) -> list[str]:
    """``target`` cut where the pieces' join is cut, following a character diff of the two.

    Slices of ``target`` in order, so they always join back to it exactly; a space the
    typesetting inserted at a cut goes with the next piece, as Whisper's words carry theirs.
    """
    source = "".join(pieces)
    if source == target:
        return list(pieces)
    opcodes = SequenceMatcher(None, source, target, autojunk=False).get_opcodes()
    cuts, position = [0], 0
    for piece in pieces[:-1]:
        position += len(piece)
        cuts.append(max(cuts[-1], _mapped(opcodes, position, target)))
    cuts.append(len(target))
    return [target[start:end] for start, end in zip(cuts, cuts[1:], strict=False)] if pieces else []


def _mapped(opcodes: list[tuple[str, int, int, int, int]], index: int, target: str) -> int:
    """Where character ``index`` of the source went in the target."""
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "insert" and i1 == index and target[j1:j2].isspace():
            return j1
        if i1 <= index < i2:
            return j1 + (index - i1 if tag == "equal" else 0)
    return len(target)


def _one_space(match: re.Match[str]) -> str:
    """A run of spaces as one, keeping a no-break one if the run had one."""
    run = match.group()
    return NNBSP if NNBSP in run else NBSP if NBSP in run else " "


def _quoted(match: re.Match[str]) -> str:
    inner = match.group(1).strip()
    return f"«{NBSP}{inner}{NBSP}»" if inner else match.group()


def _dotted(match: re.Match[str]) -> str:
    """ "10.000" is ten thousand, "3.5" three and a half; "12.05.2024" or "1.500" stay as written."""
    head, *rest = match.group().split(".")
    if len(head) <= 3 and all(len(part) == 3 for part in rest) and len(head) + 3 * len(rest) >= 5:
        return group_thousands(head + "".join(rest))
    if len(rest) == 1 and not (len(head) <= 3 and head[0] != "0" and len(rest[0]) == 3):
        return f"{head},{rest[0]}"
    return match.group()


def _set_aside(text: str) -> tuple[str, list[str], str]:
    """URLs and addresses replaced by a private-use character the text does not hold."""
    mark = next(chr(code) for code in range(0xE000, 0xF900) if chr(code) not in text)
    verbatim = _VERBATIM.findall(text)
    return _VERBATIM.sub(mark, text), verbatim, mark


def _put_back(text: str, verbatim: list[str], mark: str) -> str:
    kept = iter(verbatim)
    return re.sub(re.escape(mark), lambda _match: next(kept), text)
