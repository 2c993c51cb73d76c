"""The library's front: ``chute.open`` and its file objects (:mod:`.fileobj`), and the
one-call functions ``compress``, ``decompress``, ``copy``, ``detect`` (:mod:`.functions`).

They choose between one stream (:mod:`chute.streams`) and many pieces
(:mod:`chute.parallel`), so this layer sits above both.
"""
