"""Media assets, the ffmpeg layer, the channel format, transcoding and the live output."""
