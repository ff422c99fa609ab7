"""The optimizer: territories -> cycle routes -> order within routes -> improvement.

Nothing in this package reads files, draws maps or prints.
"""
