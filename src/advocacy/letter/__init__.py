"""One letter: takes a `Campaign` and a `Recipient`, gives a composed `Letter` (subject,
HTML, language, paper) and the warnings a writer must see about it."""
