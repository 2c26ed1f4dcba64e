"""Outputs made from a project for other people: a figure for a paper."""
