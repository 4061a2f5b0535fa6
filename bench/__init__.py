"""wirelab benchmarks: ``python -m bench`` (``make bench``) -> bench/results.json.

Each figure is measured several times on the Docker backend (and the in-process
simulation), side by side with the Linux kernel on the same topology in the same run
where a Linux counterpart exists. See bench/README.md for the methods.
"""
