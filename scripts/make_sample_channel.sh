#!/usr/bin/env bash
# Synthesizes the sample channel (spoken media + RSS feed template) from the seed transcripts.
# Needs espeak-ng and ffmpeg (Debian: apt-get install espeak-ng ffmpeg). The outputs are committed,
# so neither the demo nor CI runs this script.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
seed=${SEED_DIR:-$here/../shared/seed/transcripts}
out=$here/plugins/tubescribe/sample_channel
mkdir -p "$out"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# id | container | title | publish date (RFC 822)
videos=(
  "zig|m4a|Zig in 100 Seconds|Mon, 04 Mar 2024 15:00:00 +0000"
  "rust|webm|Rust in 100 Seconds|Tue, 14 May 2024 15:00:00 +0000"
  "react|mp4|React in 100 Seconds|Fri, 09 Aug 2024 15:00:00 +0000"
  "typescript_fireship|m4a|TypeScript in 100 Seconds|Wed, 20 Nov 2024 15:00:00 +0000"
  "localized_deployment|webm|Localized Deployments Explained|Thu, 06 Feb 2025 15:00:00 +0000"
)

items=""
for v in "${videos[@]}"; do
  IFS='|' read -r id ext title date <<<"$v"
  cp "$seed/$id.txt" "$out/$id.txt"
  espeak-ng -v en-us -s 165 -f "$seed/$id.txt" -w "$tmp/$id.wav"
  case $ext in
    m4a)  ffmpeg -loglevel error -y -i "$tmp/$id.wav" -ac 1 -ar 16000 -c:a aac -b:a 24k "$out/$id.m4a"; mime=audio/mp4 ;;
    webm) ffmpeg -loglevel error -y -i "$tmp/$id.wav" -ac 1 -c:a libopus -b:a 16k "$out/$id.webm"; mime=audio/webm ;;
    mp4)  # -t, not -shortest: ffmpeg's -shortest lets the still video run past the end of the speech.
          len=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$tmp/$id.wav")
          ffmpeg -loglevel error -y -f lavfi -i color=c=navy:s=160x90:r=1 -i "$tmp/$id.wav" -t "$len" \
            -c:v libx264 -tune stillimage -pix_fmt yuv420p -c:a aac -ac 1 -ar 16000 -b:a 24k "$out/$id.mp4"; mime=video/mp4 ;;
  esac
  secs=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$out/$id.$ext")
  size=$(stat -c %s "$out/$id.$ext")
  items+="    <item>
      <title>$title</title>
      <guid isPermaLink=\"false\">$id</guid>
      <pubDate>$date</pubDate>
      <itunes:duration>${secs%.*}</itunes:duration>
      <enclosure url=\"{base_url}/$id.$ext\" length=\"$size\" type=\"$mime\"/>
    </item>
"
done

cat >"$out/feed.xml.tmpl" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
  <channel>
    <title>tubescribe sample channel</title>
    <link>{base_url}/</link>
    <description>Short computer-science explainers, synthesized with espeak-ng for tubescribe's demo and tests.</description>
$items  </channel>
</rss>
XML
ls -l "$out"
