"""Configuration: the YAML reader, the models each file is checked against, cross-field checks."""
