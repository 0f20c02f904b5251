"""Settings package: ``base`` is shared, ``local``/``test``/``production`` specialise it."""
