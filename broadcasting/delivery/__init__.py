"""Delivery: live views and the ASGI front, stream.ts, the TV player and its API, M3U, XMLTV
and HDHomeRun. The top of the house: nothing in media, playlists or live imports it."""
