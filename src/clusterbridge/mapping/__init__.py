"""The vocabularies of both sides (codes, regions, names, glossary), text cleaning, and record linkage."""
