"""Product image checks: finding, downloading, decoding and comparing against a baseline."""
