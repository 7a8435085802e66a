"""Output formats of one composed letter: PDF (WeasyPrint), email (MIME) and plain
text. Takes a `Letter`, gives bytes; knows nothing of batches or sending."""
