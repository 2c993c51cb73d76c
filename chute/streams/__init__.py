"""The stream layer: moving bytes between files and one codec, in constant memory.

The pump (read -> transform -> write), read-ahead and write-behind threads, atomic
output files and ``follow``. It drives any codec through the sans-IO interface of
:mod:`chute.codecs` and knows nothing of threads pools, splitting or file formats.
"""
