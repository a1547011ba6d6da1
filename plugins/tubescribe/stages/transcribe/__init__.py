"""Transcribe stage: faster-whisper behind one small function (whisper.py), audio decoded in windows (audio.py)."""
