"""The analysis layer: pure functions and small classes on (Geo)DataFrames and arrays.

Nothing here reads a project config, keeps a cache or writes a file: an analyst imports these
modules in a notebook and calls them on any data. The build layer (:mod:`cwsgeo.build`) wires
them into the pipeline and decides what is cached.
"""
