"""The builder's stages. Per-sample (picklable, run by every executor): :mod:`.analyze` (fetch,
:mod:`.gate`, :mod:`.faces`, :mod:`.quality`, :mod:`.embed`) and :mod:`.materialize`
(:mod:`.crop`, :mod:`.degrade`). Global and deterministic: :mod:`.dedup`, :mod:`.identity`,
:mod:`.split`. Every verdict is a :class:`.outcome.StageOutcome`.
"""
