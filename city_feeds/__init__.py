"""City data feeds: sources, normalised items, info cards, ticker and emergency alerts."""
