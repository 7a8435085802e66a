"""Delivery: takes an output folder of rendered letters, gives each email message sent
exactly once (SMTP, with a journal), or relayed to diaspora groups; and its status."""
