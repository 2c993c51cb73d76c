"""The parallel layer: independent pieces on a pool of threads.

The pool and the block compressor (:mod:`.jobs`), the seekable layouts (:mod:`.seekable`),
the splitter that finds the independently decodable pieces of a file (:mod:`.split`) and
the lz4 block decoder (:mod:`.lz4blocks`). Built on :mod:`chute.streams` and
:mod:`chute.codecs`; what cannot be split goes back to the one-stream pump.
"""
