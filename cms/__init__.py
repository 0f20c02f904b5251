"""Public site (Wagtail pages), residents' accounts and submissions, moderation."""
