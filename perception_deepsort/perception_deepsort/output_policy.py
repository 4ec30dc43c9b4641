"""Which tracks a frame's outputs show: confirmed tracks matched now, and briefly lost ones.

A detector misses a walking person for a frame or two all the time (pose, blur, a partial
occlusion); the track goes on and is matched again. Showing such a lost track's predicted box
for up to ``output_lost_s`` seconds fills those gaps, at the price of a wrong box where the
track is not found again. Lost tracks whose prediction reaches the image border are not
shown: a person walking out of view is gone, not missed (docs/BENCHMARKS.md measures both).
"""

from __future__ import annotations

from .config import TrackerConfig
from .deep_sort import TrackOutput
from .track import TrackState

#: Slack (pixels) before a predicted box counts as touching the image border.
BORDER = 1.0


def reported_tracks(tracks, config: TrackerConfig,
                    image_size: tuple[int, int] | None = None) -> list[TrackOutput]:
    """Confirmed tracks matched this frame, plus lost ones within config.output_lost_s seconds.

    tracks: DeepSort.update() or coast() outputs; image_size (w, h) drops lost tracks whose
    predicted box touches the border (None: no such test).
    """
    limit = config.output_lost_s
    shown = []
    for t in tracks:
        if t.state is TrackState.CONFIRMED:
            shown.append(t)
        elif (t.state is TrackState.LOST and t.time_since_update <= limit + 1e-9
              and (image_size is None or _inside(t.box, image_size))):
            shown.append(t)
    return shown


def _inside(box, image_size) -> bool:
    """Whether an xyxy box lies within the image (BORDER pixels of slack)."""
    w, h = image_size
    return box[0] > BORDER and box[1] > BORDER and box[2] < w - BORDER and box[3] < h - BORDER
