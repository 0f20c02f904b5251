"""Live: the grid's playlists, the TS rewriter, the playout, slate, overrides and the live store.
Imports media and playlists, never delivery."""
