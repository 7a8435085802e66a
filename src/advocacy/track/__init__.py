"""The delivery loop: takes the output folder's journals and manifest and the campaign's
mailbox; gives each letter's append-only history (sent, delivered, bounced, replied,
followed up), the report, and the follow-up letters for the offices with no reply."""
