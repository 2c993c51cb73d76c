"""``chute bench``: which format and level suit some data, measured through chute's own path.

- :mod:`.inputs`   the streams to measure: whole files, or slices spread across huge inputs
- :mod:`.measure`  one candidate (format, level, threads) measured in a child process
- :mod:`.child`    what that child runs: compress, decompress, check, peak memory
- :mod:`.window`   the decoder window a compressed stream asks for, read from its header
- :mod:`.frontier` the Pareto frontier and the goals (storage, link, cpu, memory)
- :mod:`.report`   the table, the terminal chart, CSV and JSON
- :mod:`.svg`      the chart as an SVG file, written without a plotting library
"""
