"""The parallel layer: independent pieces on a pool of threads.

The worker threads (:mod:`.pool`); the splitter that finds the independently decodable
pieces of a file, the blocks of lz4 frames included (:mod:`.split`); random access to the
seekable layouts (:mod:`.seekable`); the block compressor and the job loop that decodes a
split file's pieces (:mod:`.jobs`). Built on :mod:`chute.streams` and
:mod:`chute.codecs`; what cannot be split goes back to the one-stream pump.
"""
