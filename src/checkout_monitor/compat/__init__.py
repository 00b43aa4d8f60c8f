"""Compatibility for code written against an earlier release; each piece says when it goes."""
