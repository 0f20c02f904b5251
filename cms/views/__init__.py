"""The site's views, one module per area (the public site, profiles, submissions, uploads)."""
