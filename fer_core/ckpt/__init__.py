"""Checkpoints: index (record headers, exact sizes), sidecar (the Sidecar model), io (MindSpore
load/save), verdict (every rule and the four levels), listing (the quick table), arch (which
architecture, structure), deep (the full check of one file). Only io and deep's behaviour
check import MindSpore, inside functions."""
