-- One video's transcript and the model that made it (tubescribe show).
SELECT text, model, audio_duration_s FROM transcripts WHERE video_id = $video_id;
