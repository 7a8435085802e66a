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
        "how_to_print": "How to print: {files}, on {paper} paper, {sides}. After handing "
        "the letters over, fill in {checklist} (event: delivered, on: the date as "
        "2026-12-10) and send it back to {reply}.",
        "double": "on both sides",
        "single": "on one side",
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
        "how_to_print": "Zum Drucken: {files}, auf Papier {paper}, {sides}. Nach der "
        "Übergabe bitte {checklist} ausfüllen (event: delivered, on: das Datum als "
        "2026-12-10) und an {reply} zurückschicken.",
        "double": "beidseitig",
        "single": "einseitig",
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
        "how_to_print": "Pour imprimer : {files}, sur papier {paper}, {sides}. Après la "
        "remise des lettres, remplissez {checklist} (event : delivered, on : la date sous "
        "la forme 2026-12-10) et renvoyez-le à {reply}.",
        "double": "en recto verso",
        "single": "en recto seul",
    },
}


def words_for(language: str) -> tuple[str, dict[str, str]]:
    """The language the sheets print in (the batch's, else English) and its words."""
    code = l10n.language_of(language) if language else "en"
    return (code, WORDS[code]) if code in WORDS else ("en", WORDS["en"])
