"""Models of the app (added by the issues that build it)."""
