"""One PNG per track: expression probabilities, head pose, eye openness and mouth opening over time."""

from __future__ import annotations

import io

from ..errors import MienError
from .result import TrackTimeline, expression_column

INSTALL = "pip install 'mien[audit]'"


def require_matplotlib() -> None:
    """Raise ``MienError`` naming the install command when matplotlib is missing (as the audit charts do)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise MienError(f"timeline plots need matplotlib: {INSTALL} (or leave the plots out: --no-plots)") from exc


def plot_track(track: TrackTimeline) -> bytes:
    """The track's plot as PNG bytes: smoothed series as lines, raw values as faint dots beside them."""
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = track.times
    panels = [("expression probability", [expression_column(c) for c in track.classes], list(track.classes))] if track.classes else []
    panels += [("head pose (degrees)", ["yaw", "pitch", "roll"], ["yaw", "pitch", "roll"]),
               ("eye openness", ["eye_left", "eye_right"], ["image-left eye", "image-right eye"]),
               ("mouth opening", ["mouth"], ["inner-lip gap / width"])]
    fig, axes = plt.subplots(len(panels), 1, figsize=(8.0, 2.1 * len(panels) + 0.6), dpi=100, sharex=True, squeeze=False)
    for ax, (title, columns, names) in zip(axes[:, 0], panels):
        for k, (column, name) in enumerate(zip(columns, names)):
            colour = f"C{k}"
            ax.plot(t, track.raw[column], ".", color=colour, alpha=0.3, markersize=3)
            if track.smoothed is not None:
                ax.plot(t, track.smoothed[column], "-", color=colour, linewidth=1.4, label=name)
            else:
                ax.plot(t, track.raw[column], "-", color=colour, linewidth=0.8, label=name)
        ax.set_ylabel(title, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, loc="upper right", ncol=min(len(columns), 4))
        if title.startswith("expression"):
            ax.set_ylim(-0.02, 1.02)
    axes[-1, 0].set_xlabel("time (s)", fontsize=8)
    how = "lines: smoothed, dots: raw" if track.smoothed is not None else "raw only (too short to smooth)"
    fig.suptitle(f"track {track.track}: frames {int(track.frames[0])}-{int(track.frames[-1])}, "
                 f"{len(track)} samples ({how})", fontsize=9)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()

