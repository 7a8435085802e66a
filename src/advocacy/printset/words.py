"""The words of the print set's own sheets (cover, checklist), per language.

The letters' text comes from the campaign's catalogs; these few labels belong to
the tool. Languages not listed here print in English, and the run says so.
"""

from __future__ import annotations

from ..i18n import l10n

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "checklist": "Delivery checklist",
        "recipient": "Recipient",
        "address": "Address",
        "reference": "Reference",
        "delivered_by": "Delivered by",
        "date": "Date",
        "stamp": "Office stamp or signature",
        "print_set": "Print set",
        "campaign": "Campaign",
        "batch": "Batch",
        "letters": "Letters",
        "pages": "Pages",
        "paper": "Paper",
        "duplex": "Printed on both sides",
        "yes": "yes",
        "no": "no",
        "left_out": "Letters left out",
        "none": "none",
        "report": "Fill in one row per letter handed over and send the CSV file "
        "back to the organiser.",
    },
    "de": {
        "checklist": "Übergabeliste",
        "recipient": "Empfänger",
        "address": "Anschrift",
        "reference": "Referenz",
        "delivered_by": "Übergeben von",
        "date": "Datum",
        "stamp": "Stempel oder Unterschrift der Stelle",
        "print_set": "Drucksatz",
        "campaign": "Kampagne",
        "batch": "Teil",
        "letters": "Briefe",
        "pages": "Seiten",
        "paper": "Papier",
        "duplex": "Beidseitig gedruckt",
        "yes": "ja",
        "no": "nein",
        "left_out": "Nicht enthaltene Briefe",
        "none": "keine",
        "report": "Bitte für jeden übergebenen Brief eine Zeile ausfüllen und die CSV-Datei "
        "an die Organisatoren zurückschicken.",
    },
    "fr": {
        "checklist": "Liste de remise",
        "recipient": "Destinataire",
        "address": "Adresse",
        "reference": "Référence",
        "delivered_by": "Remis par",
        "date": "Date",
        "stamp": "Cachet ou signature du service",
        "print_set": "Jeu d'impression",
        "campaign": "Campagne",
        "batch": "Lot",
        "letters": "Lettres",
        "pages": "Pages",
        "paper": "Papier",
        "duplex": "Impression recto verso",
        "yes": "oui",
        "no": "non",
        "left_out": "Lettres non incluses",
        "none": "aucune",
        "report": "Remplissez une ligne par lettre remise et renvoyez le fichier CSV "
        "aux organisateurs.",
    },
}


def words_for(language: str) -> tuple[str, dict[str, str]]:
    """The language the sheets print in (the batch's, else English) and its words."""
    code = l10n.language_of(language) if language else "en"
    return (code, WORDS[code]) if code in WORDS else ("en", WORDS["en"])
