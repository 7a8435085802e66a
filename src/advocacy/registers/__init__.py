"""Recipient lists from the public registers people already trust.

`import_register` turns a register file (the unitedstates project's
legislators-current.yaml, or any CSV, YAML or JSON file with a mapping) into
recipient entries; `diff_list` compares a campaign's list with a newer file of
the same register, matched by `register_id`, and `apply_diff` writes the changes
with the old values kept in each entry's `notes`.

Above `letter` in the layers: a mapping's derived fields are rendered in the
letter sandbox (letter/sandbox.py).
"""
