"""Info cards: the city's fresh data as videos of kind card that fill the timeline's card slots.

``content`` says what each card category shows (pure), ``render`` and ``map`` draw it with
Pillow (1920×1080, the city's colours, legible at 3 m), ``encode`` makes the picture a clip of
whole 4.8-s segments imported through ``broadcasting.media`` (transcoded on the ``cards``
queue), ``services`` refreshes, throttles, withdraws and prunes cards. The playout finds the
freshest ready card of a slot's category through ``broadcasting.media.selectors.card_freshest``
and never imports this package.
"""
