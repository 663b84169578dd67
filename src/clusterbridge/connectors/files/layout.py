"""The default layouts of the file exchange, in the shared model's terms: the columns an export file holds
(natives) and the columns an import file gets (mirrors). A settings file maps any of them to the headers a
platform team uses; a column that is not mapped is looked for under its own name.
"""

from __future__ import annotations

# --- export files: one native cluster a row --------------------------------------------------------------

# columns every export needs; a file without one of them cannot be read at all
EXPORT_REQUIRED = ("id", "name", "changed")

# every column an export may hold, in the order the documentation lists them
EXPORT_FIELDS = (
    "id",  # the cluster's id on its platform: 1-64 of A-Z a-z 0-9 . _ ~ -, starting with a letter or digit
    "name",  # the name in the side's language (Hangul on a Korean side)
    "name_en",  # the cluster's own English name, if it has one (it beats a romanisation, rule 8)
    "language",  # BCP 47 tag of the row's texts; blank: the side's language
    "acronym",
    "country",  # ISO 3166-1 alpha-2 (EL and UK are read as GR and GB); blank: the side's only home country
    "region",  # a region name (a Korean province or city on a Korean side: its Hangul name)
    "region_code",  # NUTS 2021 or ISO 3166-2:KR
    "city",
    "website",
    "year",  # year established
    "members_total",
    "members_sme",
    "members_large",
    "members_research",
    "members_other",
    "ecosystems",  # EU industrial ecosystems, separated by ';' or line breaks
    "nace_codes",  # NACE Rev. 2 codes, separated by ',' ';' or spaces
    "ksic_codes",  # KSIC (10th revision) codes, likewise
    "industries",  # industry labels in the row's language, separated by ';' or line breaks
    "sectors",
    "technologies",
    "description",  # plain text (markup is removed)
    "seeking",  # cooperation: what the cluster looks for
    "offering",  # cooperation: what it offers
    "target_countries",  # ISO codes, separated by ',' ';' or spaces
    "contact_name",
    "contact_email",
    "contact_phone",
    "contact_public",  # yes/no: the contact crosses only when yes (rule 7); blank: no
    "changed",  # ISO 8601 with a UTC offset, e.g. 2026-10-15T09:30:00+09:00
    "live",  # yes/no: no withdraws the cluster (its mirror is deleted); blank: yes
)

# --- import files: one mirror of the other side's clusters a row -----------------------------------------

IMPORT_COLUMNS = (
    "external_id",  # the key of the row: how a mirror is found again (the other side's id with its prefix)
    "name",  # Latin-script display name: the cluster's own English name, else a romanisation
    "name_local",  # the name in the reader's language and script
    "acronym",
    "country",  # ISO 3166-1 alpha-2
    "country_name",  # in the reader's language (CLDR)
    "region",
    "region_code",
    "city",
    "website",
    "year_established",
    "members_total",
    "members_sme",
    "members_large",
    "members_research",
    "members_other",
    "ecosystems",  # in the reader's language where the vocabulary has the words, ';'-separated
    "industries",  # industry labels in the reader's language, ';'-separated
    "codes",  # industry codes in the reader side's code system, ','-separated
    "code_system",  # NACE or KSIC
    "description",  # plain text; a machine translation is followed by its note and the original
    "description_language",  # the language the description opens in
    "seeking",
    "offering",
    "target_countries",  # ISO codes, ','-separated
    "quality_label",
    "contact_name",  # the contact columns are blank unless the source marks the contact public (rule 7)
    "contact_email",
    "contact_phone",
    "sections",  # what the row has no column for (original name, sectors, technologies...): 'Heading: a; b'
    "original_language",
    "source_changed",  # when the cluster last changed on its own platform, ISO 8601 in UTC
)

# integer columns of an import file: written as numbers to a spreadsheet, as text everywhere else
IMPORT_NUMBERS = frozenset(
    {"year_established", "members_total", "members_sme", "members_large", "members_research", "members_other"}
)
