"""Programming rules, the timeline builder and the as-run log."""
