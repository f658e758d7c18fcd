"""A picture of an episode, drawn on the server as SVG: who speaks when, and where chapters start.

One lane per voice, in a colour of its own named in the legend beside the drawing;
each stretch of speech and each chapter mark links to that moment (for the mouse).
The drawing itself is hidden from screen readers: the same facts come as text — each
voice's share of the time and the chapter list with links — so nothing is lost without
it, and the page stays readable without CSS or JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup, escape

from archive.models import Episode
from archive.people import speaker_names
from feeds.timefmt import clock

WIDTH = 1000
LANE = 22
GAP = 6
TOP = 18  # room for the chapter numbers
# Colours with at least 3:1 contrast on white (WCAG non-text contrast), told apart without red/green alone.
PALETTE = ("#0b4f8a", "#b45309", "#15803d", "#7e22ce", "#be123c", "#0e7490", "#4d4d4d", "#a16207")


@dataclass
class Lane:
    label: str
    name: str
    colour: str
    stretches: list[tuple[float, float]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(end - start for start, end in self.stretches)


@dataclass(frozen=True)
class Timeline:
    svg: Markup
    lanes: list[Lane]
    total_speech: float

    def share(self, lane: Lane) -> int:
        """The voice's share of the speaking time, in percent."""
        return round(100 * lane.seconds / self.total_speech) if self.total_speech else 0


def lanes_of(episode: Episode) -> list[Lane]:
    """Voices in order of first appearance, consecutive utterances of one voice merged into one stretch."""
    names = speaker_names(episode)
    lanes: dict[str, Lane] = {}
    for utterance in episode.utterances:
        label = utterance.speaker or ""
        lane = lanes.get(label)
        if lane is None:
            lane = lanes[label] = Lane(label, names.get(label, "Voix inconnue"), PALETTE[len(lanes) % len(PALETTE)])
        if lane.stretches and utterance.start - lane.stretches[-1][1] < 1.0:
            lane.stretches[-1] = (lane.stretches[-1][0], utterance.end)
        else:
            lane.stretches.append((utterance.start, utterance.end))
    return list(lanes.values())


def draw(episode: Episode) -> Timeline:
    lanes = lanes_of(episode)
    duration = max(episode.duration, 0.1)
    height = TOP + len(lanes) * (LANE + GAP)
    x = lambda seconds: round(WIDTH * max(0.0, min(seconds, duration)) / duration, 1)  # noqa: E731
    parts = [f'<svg class="timeline-svg" viewBox="0 0 {WIDTH} {height}" preserveAspectRatio="none" '
             f'aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg">']
    for index, lane in enumerate(lanes):
        y = TOP + index * (LANE + GAP)
        parts.append(f'<rect x="0" y="{y}" width="{WIDTH}" height="{LANE}" fill="#f1f1ec"/>')
        for start, end in lane.stretches:
            width = max(1.0, x(end) - x(start))
            parts.append(f'<a href="#t={start:g}" tabindex="-1"><rect x="{x(start)}" y="{y}" width="{width:.1f}" '
                         f'height="{LANE}" fill="{lane.colour}"><title>{escape(lane.name)}, {clock(start)}</title>'
                         f'</rect></a>')
    for number, chapter in enumerate(episode.chapters, start=1):
        left = x(chapter.start)
        parts.append(f'<a href="#t={chapter.start:g}" tabindex="-1"><line x1="{left}" y1="0" x2="{left}" '
                     f'y2="{height}" stroke="#1b1b1b" stroke-width="2"/><text x="{left + 3}" y="13" '
                     f'font-size="13" fill="#1b1b1b">{number}<title>{escape(chapter.title)}</title></text></a>')
    parts.append("</svg>")
    total = sum(lane.seconds for lane in lanes)
    return Timeline(Markup("".join(parts)), lanes, total)
