"""A piano-roll PNG of a chorale: four voices in four colours (matplotlib, Agg).

Owns the picture only: one bar per note at its pitch, bar lines every 16 frames, frames
under a fermata shaded. Uses a ``Figure`` with the Agg canvas directly (no pyplot global
state, safe in a bot's worker threads). matplotlib is imported inside the function.
Never imports music21 or torch.
"""

from __future__ import annotations

import io

from shared_model.domains.bach.encoding import STEPS_PER_BAR, ChoraleFrames, notes_from_frames

VOICE_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd")  # S red, A blue, T green, B purple
VOICE_LABELS = ("Soprano", "Alto", "Tenor", "Bass")


def piano_roll_png(frames: ChoraleFrames, semitones: int = 0, title: str = "",
                   dpi: int = 100) -> bytes:
    """PNG bytes of the piano roll of ``frames`` transposed by ``semitones``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    t = max(len(frames), 1)
    fig = Figure(figsize=(min(4 + t / 16, 24), 4.5), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    notes = notes_from_frames(frames)
    for v in range(4):  # one PolyCollection per voice: fast even for long chorales
        boxes = [[(n.start, y - 0.4), (n.end, y - 0.4), (n.end, y + 0.4), (n.start, y + 0.4)]
                 for n in notes if n.voice == v for y in [n.pitch + semitones]]
        ax.add_collection(PolyCollection(boxes, facecolors=VOICE_COLOURS[v],
                                         edgecolors="black", linewidths=0.3))
    # fermata frames shaded, bar lines
    start = None
    for i in range(t + 1):
        on = i < len(frames) and bool(frames.fermata[i])
        if on and start is None:
            start = i
        if not on and start is not None:
            ax.axvspan(start, i, color="0.85", zorder=0)
            start = None
    for b in range(0, t + 1, STEPS_PER_BAR):
        ax.axvline(b, color="0.6", linewidth=0.6, zorder=0)
    ax.set_xlim(0, t)
    sounding = [n.pitch + semitones for n in notes]
    if sounding:
        ax.set_ylim(min(sounding) - 2, max(sounding) + 2)
    ax.set_xlabel("sixteenth notes (bar lines every 16)")
    ax.set_ylabel("MIDI pitch")
    if title:
        ax.set_title(title)
    ax.legend(handles=[Patch(color=c, label=lab) for c, lab in zip(VOICE_COLOURS, VOICE_LABELS, strict=True)],
              loc="upper right", fontsize="small", ncols=4)
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.12, top=0.9 if title else 0.97)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
