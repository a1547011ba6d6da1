INSERT OR REPLACE INTO summaries (summary_id, video_id, backend, model, prompt_version, summary_json,
                                  introduction, tokens_in, tokens_out, latency_s, created_at)
VALUES ($summary_id, $video_id, $backend, $model, $prompt_version, $summary_json,
        $introduction, $tokens_in, $tokens_out, $latency_s, $created_at);
