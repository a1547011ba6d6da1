"""Audio for the transcribe stage: decoded a block at a time and cut into windows at pauses.

faster-whisper's `transcribe` takes a whole file: it decodes all of it and builds log-mel features
for all of it before decoding a word, so its memory grows with the file (3.7 GiB for one hour).
Streaming the decode and handing it windows of a few minutes bounds memory by the window instead.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16000  # what every Whisper model expects
# A window ends at the quietest moment of its last this-many seconds (at most a quarter of the
# window), so no word is cut in half. Fast talkers pause for 100-200 ms between sentences: too short
# for Silero's speech timestamps (the sample channel has two such pauses in 2.5 minutes), so the cut
# is chosen from its per-frame speech probabilities instead.
CUT_SEARCH_S = 30.0


def decode_blocks(path: Path) -> Iterator[np.ndarray]:
    """The first audio track as 16 kHz mono float32 blocks (about 30 s each), decoded as needed.

    The same steps as `faster_whisper.decode_audio`, in the same order and block size, so the
    samples are identical to it and a file that fits in one window transcribes exactly as before.
    """
    import av
    import numpy as np
    from faster_whisper.audio import _group_frames, _ignore_invalid_frames, _resample_frames

    resampler = av.audio.resampler.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            frames = _group_frames(_ignore_invalid_frames(container.decode(audio=0)), 500000)
            for frame in _resample_frames(frames, resampler):
                yield frame.to_ndarray().reshape(-1).astype(np.float32) / 32768.0
    finally:
        # PyAV's resampler leaks unless collected (faster-whisper issue #390); workers decode many files.
        del resampler
        gc.collect()


def windows(blocks: Iterable[np.ndarray], window_s: float) -> Iterator[tuple[float, np.ndarray]]:
    """Yield (start second, samples) windows of about `window_s` seconds, each ending in a pause.

    A window is cut only once the next one would have at least the search span of audio, so the
    last window is never a sliver, and audio up to `window_s` plus that span stays in one piece.
    """
    import numpy as np

    window = int(window_s * SAMPLE_RATE)
    search = int(min(CUT_SEARCH_S, window_s / 4) * SAMPLE_RATE)
    pending: list[np.ndarray] = []
    held = start = 0
    for block in blocks:
        pending.append(block)
        held += len(block)
        if held < window + search:
            continue
        audio = np.concatenate(pending)
        pending.clear()  # the blocks are in `audio` now; holding both would double the memory
        while len(audio) >= window + search:
            cut = window - search + _quietest(audio[window - search : window])
            yield start / SAMPLE_RATE, audio[:cut]
            start += cut
            audio = audio[cut:]
        pending, held = [audio], len(audio)
    if held or not start:  # an empty track still yields one (empty) window, as decode_audio would
        audio = np.concatenate(pending) if pending else np.zeros(0, np.float32)
        pending.clear()
        yield start / SAMPLE_RATE, audio


def _quietest(span: np.ndarray) -> int:
    """The sample in `span` least like speech: the middle of its quietest 160 ms by Silero VAD."""
    import numpy as np
    from faster_whisper.vad import get_vad_model

    frame = 512  # Silero scores 32 ms frames
    frames = len(span) // frame
    # A copy: the model zeroes part of the array it is given, and `span` is audio still to be transcribed.
    probs = get_vad_model()(span[: frames * frame].copy()).reshape(-1)
    # Averaged over five frames, so a single low frame inside a word does not count as a pause.
    smoothed = np.convolve(probs, np.ones(5) / 5, mode="valid")
    return (int(np.argmin(smoothed)) + 2) * frame + frame // 2  # the middle of the best five
