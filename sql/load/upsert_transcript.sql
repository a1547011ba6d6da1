INSERT OR REPLACE INTO transcripts (video_id, text, language, language_probability, audio_duration_s, model,
                                    settings_key, segment_count, transcribed_at, elapsed_s)
VALUES ($video_id, $text, $language, $language_probability, $audio_duration_s, $model,
        $settings_key, $segment_count, $transcribed_at, $elapsed_s);
