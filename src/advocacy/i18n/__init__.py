"""Languages and locales: takes a language tag or a campaign's catalogs, gives dates,
numbers, country names, paper sizes and gettext translations. Knows nothing of a
campaign (the campaign's own translation commands live in `campaign.translations`)."""
