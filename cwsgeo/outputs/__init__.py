"""The outputs layer: Folium maps, matplotlib figures and tables written from analysis results.

Functions here take the results of :mod:`cwsgeo.analysis` and write files atomically; they
keep no cache of their own (the build layer may inject a store).
"""
