"""A video and a timeline of every run: what the harness saw, did and heard, on one clock.

``VideoRecorder`` keeps the frames the harness took (``RecordedHandset`` hands
them over as the flow takes its screenshots) and writes ``video.webm`` when the
run is to be kept; ``write_timeline`` turns an artifacts folder (step log,
screenshots, serial logs, the video's frame times) into ``timeline.html``.
"""

from harness.timeline.page import TIMELINE_NAME, write_timeline
from harness.timeline.recorded import RecordedHandset
from harness.timeline.video import RECORD_MODES, RecordingError, VideoRecorder

__all__ = ["RECORD_MODES", "RecordedHandset", "RecordingError", "TIMELINE_NAME", "VideoRecorder", "write_timeline"]
