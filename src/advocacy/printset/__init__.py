"""The print set: combined PDFs per batch, envelopes, labels, checklists (`advocacy print`)."""
