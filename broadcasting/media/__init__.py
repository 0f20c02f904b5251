"""Media: the channel format, intake, probe, the ffmpeg layer, loudness, the ladder, jobs,
transcoding, media storage and caption drawing. Imports nothing from playlists, live or delivery."""
