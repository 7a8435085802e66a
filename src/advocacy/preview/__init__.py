"""Drafts: takes a `Campaign`, gives one letter as text in the terminal, or every letter
in a local web page that reloads when a file of the campaign is saved."""
