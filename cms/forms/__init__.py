"""Forms of the public site, one module per area (``accounts``: sign-up and profile)."""
