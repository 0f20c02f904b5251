"""Fillers: the break and rolls around programme items, and the filling of what is left.

A ``FillerPolicy`` is resolved once per build against the library (``fill_plan``). A gap is
filled with fillers longest first (each once), then card slots (each once), then the slate.
"""

from __future__ import annotations

from bisect import bisect_right

from playlists.rules import ChannelRules, FillerPolicy
from playlists.scheduling.state import Build, FillPlan, Instance, Piece


def surroundings(plan: FillPlan, n: int) -> tuple[tuple[list[Piece], list[Piece]], list[Piece]]:
    """Return ((break, pre-roll), post-roll) around programme item number ``n``."""
    brk: list[Piece] = []
    if n > 0 and plan.interstitials:
        brk.append(plan.interstitials[(n - 1) % len(plan.interstitials)])
    brk.extend(piece for every, piece in plan.cards if n > 0 and n % every == 0)
    if plan.ident_every and plan.idents and n % plan.ident_every == 0:
        brk.append(plan.idents[(n // plan.ident_every) % len(plan.idents)])
    pre = [plan.prerolls[n % len(plan.prerolls)]] if plan.prerolls else []
    post = [plan.postrolls[n % len(plan.postrolls)]] if plan.postrolls else []
    return (brk, pre), post


def fill_plan(build: Build, policy: FillerPolicy) -> FillPlan:
    """Return the (cached) plan of ``policy``."""
    if policy not in build.plans:
        build.plans[policy] = _make_plan(build, policy)
    return build.plans[policy]


def _make_plan(build: Build, policy: FillerPolicy) -> FillPlan:
    """Resolve ``policy`` against the library."""

    def pieces(ids: tuple[int, ...], role: str) -> tuple[Piece, ...]:
        return tuple(Piece(build.lengths[i], "asset", i, role) for i in ids if i in build.lengths)

    segment_ms = build.rules.segment_ms
    cards = tuple(
        (
            rule.every_n_items,
            Piece(-(-rule.length_ms // segment_ms), "card_slot", None, "card", rule.category),
        )
        for rule in policy.card_slots
    )
    gap = pieces(policy.interstitial_ids, "filler") + pieces(policy.ident_ids, "ident")
    if not gap:
        fillers = (
            i for (kind, *_), group in build.groups.items() if kind == "filler" for i in group
        )
        gap = tuple(Piece(item.segments, "asset", item.id, "filler") for item in fillers)
    gap = tuple(sorted(gap, key=lambda piece: (piece.segments, piece.asset_id or 0)))
    return FillPlan(
        idents=pieces(policy.ident_ids, "ident"),
        prerolls=pieces(policy.preroll_ids, "preroll"),
        postrolls=pieces(policy.postroll_ids, "postroll"),
        interstitials=pieces(policy.interstitial_ids, "interstitial"),
        cards=cards,
        ident_every=policy.ident_every_n_items,
        gap=gap,
        gap_lengths=tuple(piece.segments for piece in gap),
    )


def fill_gap(build: Build, instance: Instance, at: int, stop: int) -> int:
    """Fill [at, stop): fillers longest first (each once), card slots (each once), slate."""
    plan, origin = fill_plan(build, instance.fillers), (instance.block_id, None)
    bound = len(plan.gap)
    while at < stop and bound > 0:
        bound = min(bound, bisect_right(plan.gap_lengths, stop - at))
        if bound > 0:
            bound -= 1
            at = build.emit(at, plan.gap[bound].segments, plan.gap[bound], origin)
    for _, piece in plan.cards:
        if piece.segments <= stop - at:
            at = build.emit(at, piece.segments, piece, origin)
    if at < stop:
        at = build.emit(at, stop - at, slate(build.rules, stop - at), origin)
    return at


def slate(rules: ChannelRules, segments: int) -> Piece:
    """Return a slate piece of ``segments``."""
    return Piece(segments, "slate", rules.slate_id, "slate")
