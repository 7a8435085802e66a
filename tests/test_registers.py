"""Recipients from public registers: `recipients import` of the unitedstates
project's legislators-current.yaml (the real excerpt of ../shared/data/registers, copied
into tests/fixtures/registers so that a bare checkout runs the tests)
and of its CSV through a mapping, every letter rendered and its address read back
from the PDF, `recipients diff` against a newer copy, and bad register files."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import yaml

from advocacy.campaign.discovery import open_campaign
from advocacy.campaign.recipients import load_file
from advocacy.errors import RegisterError
from advocacy.letter.address import address_lines
from advocacy.registers.importer import Options, import_register
from advocacy.render.batch import RenderOptions, render
from conftest import FIXED_DATE, REPO, build_file_tree, bundled_toml, pdf_text, run_cli
from test_paper import A4_ZONE, LETTER_ZONE, _center_in, _fully_in, _paper, _tokens, _words

DATA = REPO / "tests" / "fixtures" / "registers"  # copies of ../shared/data/registers
LEGISLATORS = DATA / "legislators-current.excerpt.yaml"
COMMITTEES = DATA / "committee-membership-current.excerpt.yaml"
FIXTURES = REPO / "tests" / "fixtures" / "registers"
DATE = "2026-06-15"

# From the excerpt itself: the 9 senators (type sen in their last term) and the
# members of Senate Foreign Relations (SSFR) and House Foreign Affairs (HSFA).
SENATORS = {"B001261", "C001056", "M001176", "R000584", "S001181", "L000570", "C000127",
            "B001243", "C001047"}  # fmt: skip
SSFR = {"R000584", "B001261", "C001056", "S001181", "M001176"}
HSFA = {"M001137", "S000344", "K000375", "M001157", "H001058", "C001059"}


def _import(*args: str, cwd: Path) -> None:
    result = run_cli("recipients", "import", *args, "--date", DATE, cwd=cwd)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def congress(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A campaign whose only list is the excerpt, imported through the command line."""
    root = tmp_path_factory.mktemp("congress") / "campaign"
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copytree(REPO / "locales", root / "locales")
    build_file_tree(root, {"campaign.toml": bundled_toml()})
    _import("congress-legislators", str(LEGISLATORS), "--committees", str(COMMITTEES),
            "--to-list", "recipients/us-congress.yaml", cwd=root)  # fmt: skip
    return root


def _bioguide(register_id: str) -> str:
    return register_id.removeprefix("bioguide:")


def test_the_excerpt_gives_25_entries_with_chamber_state_and_committee_tags(
    congress: Path,
) -> None:
    recipients = load_file(congress / "recipients" / "us-congress.yaml")
    assert len(recipients) == 25
    by_id = {_bioguide(r.register_id): r for r in recipients}
    assert len(by_id) == 25
    assert {b for b, r in by_id.items() if "senate" in r.tags} == SENATORS
    assert {b for b, r in by_id.items() if "house" in r.tags} == set(by_id) - SENATORS
    assert {b for b, r in by_id.items() if "ssfr" in r.tags} == SSFR
    assert {b for b, r in by_id.items() if "hsfa" in r.tags} == HSFA
    assert {b for b, r in by_id.items() if "foreign-affairs" in r.tags} == SSFR | HSFA
    assert "us-wa" in by_id["C000127"].tags and "us-ny" in by_id["V000081"].tags
    for recipient in recipients:
        assert recipient.verified is False
        assert recipient.confidence == "medium"
        assert recipient.source == "https://github.com/unitedstates/congress-legislators"
        assert recipient.source_date == f"{DATE} (legislators-current.excerpt.yaml)"
    cantwell, velazquez = by_id["C000127"], by_id["V000081"]
    assert cantwell.name == "The Honorable Maria Cantwell"
    assert cantwell.text(cantwell.organisation, ["en"]) == "United States Senate"
    assert cantwell.address.street_address == "511 Hart Senate Office Building"
    assert velazquez.address.postal_code == "20515-3207"
    assert velazquez.text(velazquez.organisation, ["en"]) == "U.S. House of Representatives"


@pytest.fixture(scope="module")
def rendered(congress: Path) -> Path:
    out = congress / "letters"
    summary = render(open_campaign(congress), RenderOptions(out=out, today=FIXED_DATE))
    assert not summary.failed, summary.failed
    return out


def test_every_imported_letter_has_its_whole_address_in_the_no_10_window(
    congress: Path, rendered: Path
) -> None:
    campaign = open_campaign(congress)
    sender_country = campaign.config.sender.country
    assert len(campaign.recipients) == 25
    for recipient in campaign.recipients:
        pdf = rendered / f"{recipient.id}.en.pdf"
        words, _, height = _words(pdf)
        assert _paper(height) == "Letter", recipient.id
        inside = [w for w in words if _center_in(w, LETTER_ZONE)]
        for word in inside:
            assert _fully_in(word, LETTER_ZONE), f"{recipient.id}: {word['text']!r} crosses"
        printed = _tokens(" ".join(w["text"] for w in inside))
        lines = address_lines(recipient, sender_country=sender_country, language="en")
        assert printed == _tokens(" ".join(lines)), f"{recipient.id}: the window shows {printed}"
        assert printed[:2] == ["The", "Honorable"], recipient.id


@pytest.mark.parametrize(
    ("letter", "salutation"),
    [
        ("us-cantwell-c000127", "Dear Senator Cantwell:"),
        ("us-lujan-l000570", "Dear Senator Luján:"),
        ("us-velazquez-v000081", "Dear Representative Velázquez:"),
        ("us-mccaul-m001157", "Dear Representative McCaul:"),
        # Puerto Rico's resident commissioner is not a Representative: Mr. and the surname.
        ("us-hernandez-rivera-h001103", "Dear Mr. Hernández Rivera:"),
    ],
)
def test_salutations_follow_the_office(rendered: Path, letter: str, salutation: str) -> None:
    text = pdf_text(rendered / f"{letter}.en.pdf")
    assert salutation in text
    assert "Sincerely," in text  # the American close of en-US letters


def _without_committees(entries: list[dict]) -> list[dict]:
    return [
        {**e, "tags": e["tags"][:3], "source_date": e["source_date"].split(" ")[0]} for e in entries
    ]


def test_a_generic_import_of_the_csv_gives_what_the_built_in_source_gives() -> None:
    built_in = import_register("congress-legislators", LEGISLATORS, Options(date=DATE))
    generic = import_register(
        "generic",
        FIXTURES / "legislators-current.excerpt.csv",
        Options(mapping=FIXTURES / "congress-csv.mapping.toml", date=DATE),
    )
    assert len(generic.entries) == 25
    # The CSV has no committees: the same entries, without committee tags.
    assert _without_committees(generic.entries) == _without_committees(built_in.entries)
    assert all(len(e["tags"]) == 3 for e in built_in.entries)


def test_a_uk_parliament_member_with_the_house_s_own_address_forms(tmp_path: Path) -> None:
    root = tmp_path / "campaign"
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copytree(REPO / "locales", root / "locales")
    build_file_tree(root, {"campaign.toml": bundled_toml()})
    _import("uk-parliament", str(FIXTURES / "uk-members-search.json"),
            "--contacts", str(FIXTURES / "uk-contacts"), "--to-list", "recipients/uk.yaml",
            cwd=root)  # fmt: skip
    (member,) = load_file(root / "recipients" / "uk.yaml")
    assert (member.id, member.register_id) == ("uk-starmer-4514", "uk-parliament:4514")
    assert member.name == "Rt Hon Sir Keir Starmer MP"  # the API's nameFullTitle
    assert member.email == "keir.starmer.mp@parliament.uk"  # the Parliamentary office's
    assert (member.address.city, member.address.postal_code) == ("London", "SW1A 0AA")
    assert member.confidence == "high" and member.verified is False
    out = root / "letters"
    summary = render(open_campaign(root), RenderOptions(out=out, today=FIXED_DATE))
    assert not summary.failed, summary.failed
    words, _, height = _words(out / "uk-starmer-4514.en.pdf")
    assert _paper(height) == "A4"
    inside = [w for w in words if _center_in(w, A4_ZONE)]
    assert all(_fully_in(w, A4_ZONE) for w in inside)
    printed = _tokens(" ".join(w["text"] for w in inside))
    country = open_campaign(root).config.sender.country
    assert printed == _tokens(" ".join(address_lines(member, sender_country=country)))
    assert printed[:8] == ["Rt", "Hon", "Sir", "Keir", "Starmer", "MP", "House", "of"]
    assert "SW1A" in printed and "0AA" in printed
    assert "Dear Sir Keir," in pdf_text(out / "uk-starmer-4514.en.pdf")  # a knight: first name


def test_a_canadian_mp_from_the_house_s_xml_goes_to_the_house_in_ottawa(tmp_path: Path) -> None:
    root = tmp_path / "campaign"
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copytree(REPO / "locales", root / "locales")
    build_file_tree(root, {"campaign.toml": bundled_toml()})
    _import("ca-house-of-commons", str(FIXTURES / "ourcommons-members.xml"),
            "--to-list", "recipients/ca.yaml", cwd=root)  # fmt: skip
    (member,) = load_file(root / "recipients" / "ca.yaml")
    assert member.register_id == "ourcommons:28286"
    assert member.name == "The Right Honourable Mark Carney, M.P."  # "Right Hon." in the XML
    assert "ca-on" in member.tags
    out = root / "letters"
    summary = render(open_campaign(root), RenderOptions(out=out, today=FIXED_DATE))
    assert not summary.failed, summary.failed
    words, _, height = _words(out / "ca-carney-28286.en.pdf")
    assert _paper(height) == "Letter"
    inside = [w for w in words if _center_in(w, LETTER_ZONE)]
    assert all(_fully_in(w, LETTER_ZONE) for w in inside)
    printed = _tokens(" ".join(w["text"] for w in inside))
    country = open_campaign(root).config.sender.country
    assert printed == _tokens(" ".join(address_lines(member, sender_country=country)))
    assert printed[-5:] == ["OTTAWA", "ON", "K1A", "0A6", "CANADA"]


def test_an_mep_from_the_ep_open_data_goes_to_the_parliament_in_brussels(tmp_path: Path) -> None:
    root = tmp_path / "campaign"
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copytree(REPO / "locales", root / "locales")
    build_file_tree(root, {"campaign.toml": bundled_toml()})
    _import("ep-meps", str(FIXTURES / "ep-meps-show-current.json"),
            "--contacts", str(FIXTURES / "ep-contacts"), "--to-list", "recipients/ep.yaml",
            cwd=root)  # fmt: skip
    (member,) = load_file(root / "recipients" / "ep.yaml")
    assert (member.register_id, member.email) == ("ep:256810", "mika.aaltola@europarl.europa.eu")
    assert {"ep", "mep", "ep-fi", "ep-group-epp"} <= set(member.tags)
    out = root / "letters"
    summary = render(open_campaign(root), RenderOptions(out=out, today=FIXED_DATE))
    assert not summary.failed, summary.failed
    words, _, height = _words(out / "ep-aaltola-256810.en.pdf")
    assert _paper(height) == "A4"
    inside = [w for w in words if _center_in(w, A4_ZONE)]
    assert all(_fully_in(w, A4_ZONE) for w in inside)
    printed = _tokens(" ".join(w["text"] for w in inside))
    country = open_campaign(root).config.sender.country
    assert printed == _tokens(" ".join(address_lines(member, sender_country=country)))
    assert {"Mika", "Aaltola", "Wiertzstraat", "1047"} <= set(printed)
    assert "Dear Mika Aaltola," in pdf_text(out / "ep-aaltola-256810.en.pdf")


def test_a_register_xml_with_entities_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "members.xml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        "<ArrayOfMemberOfParliament><MemberOfParliament><PersonId>1</PersonId>"
        "<PersonOfficialFirstName>&lol2;</PersonOfficialFirstName>"
        "</MemberOfParliament></ArrayOfMemberOfParliament>",
        encoding="utf-8",
    )
    result = run_cli("recipients", "import", "ca-house-of-commons", str(bomb), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: {bomb}: declares a DOCTYPE or entities, which the House's XML never does; "
        "download the file again"
    )


# -- diff ---------------------------------------------------------------------

MOVED = {  # bioguide -> (old office, new office): two moves made for the test
    "C000127": ("511 Hart Senate", "305 Hart Senate"),
    "V000081": ("2302 Rayburn House", "1410 Longworth House"),
}
LEFT = "B001243"  # Marsha Blackburn: taken out of the newer copy
JOINED = "V000128"  # Chris Van Hollen: tests/fixtures/registers/legislator-v000128.yaml


def _newer_register(folder: Path) -> Path:
    """The excerpt with 2 offices moved, 1 member gone and 1 joined."""
    members = yaml.safe_load(LEGISLATORS.read_text(encoding="utf-8"))
    newer = []
    for member in members:
        bioguide = member["id"]["bioguide"]
        if bioguide == LEFT:
            continue
        if bioguide in MOVED:
            old, new = MOVED[bioguide]
            term = member["terms"][-1]
            term["office"] = term["office"].replace(old, new)
            term["address"] = term["address"].replace(old, new)
        newer.append(member)
    newer += yaml.safe_load((FIXTURES / "legislator-v000128.yaml").read_text(encoding="utf-8"))
    path = folder / "legislators-current.yaml"
    path.write_text(yaml.safe_dump(newer, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_diff_reports_exactly_the_four_changes_and_apply_keeps_the_history(
    tmp_path: Path,
) -> None:
    _import("congress-legislators", str(LEGISLATORS), "--to-list", "us.yaml", cwd=tmp_path)
    listed = tmp_path / "us.yaml"
    # A person checked two entries: Cantwell's (about to move) and Risch's (not).
    text = listed.read_text(encoding="utf-8")
    entries = yaml.safe_load(text)
    for entry in entries:
        if entry["register_id"] in ("bioguide:C000127", "bioguide:R000584"):
            entry["verified"] = dt.date(2026, 6, 20)
    header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
    text = header + "\n" + yaml.safe_dump(entries, allow_unicode=True, sort_keys=False)
    listed.write_text(text, encoding="utf-8")
    newer = _newer_register(tmp_path)
    args = ("recipients", "diff", str(listed), str(newer), "--source", "congress-legislators",
            "--date", "2026-07-01")  # fmt: skip

    result = run_cli(*args, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    changes = yaml.safe_load(result.stdout)["changes"]
    assert sorted((c["kind"], _bioguide(c["register_id"])) for c in changes) == sorted(
        [("moved", "C000127"), ("moved", "V000081"), ("left", LEFT), ("joined", JOINED)]
    )
    assert all(c["date"] == "2026-07-01" for c in changes)
    moved = next(c for c in changes if c["register_id"] == "bioguide:C000127")
    assert "511 Hart Senate Office Building" in moved["old"]
    assert "305 Hart Senate Office Building" in moved["new"]
    assert listed.read_text(encoding="utf-8") == text  # a diff without --apply writes nothing

    result = run_cli(*args, "--apply", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "4 change(s) applied" in result.stdout
    after = {_bioguide(r.register_id): r for r in load_file(listed)}
    assert LEFT not in after and JOINED in after and len(after) == 25
    cantwell = after["C000127"]
    assert cantwell.address.street_address == "305 Hart Senate Office Building"
    assert cantwell.verified is False  # reset: the checked address is not the new one
    assert "2026-07-01 congress-legislators: moved, was United States Senate, " in cantwell.notes
    assert "511 Hart Senate Office Building" in cantwell.notes
    assert "was verified 2026-06-20" in cantwell.notes
    assert cantwell.notes.startswith("Phone: 202-224-3441\n")  # the old notes stay
    assert after["V000081"].address.street_address == "1410 Longworth House Office Building"
    assert after["R000584"].verified.isoformat() == "2026-06-20"  # type: ignore[union-attr]
    assert after[JOINED].name == "The Honorable Chris Van Hollen"
    assert after[JOINED].verified is False
    assert listed.read_text(encoding="utf-8").startswith("# Imported with")  # header kept

    again = run_cli(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().endswith(f"0 change(s) between {listed} and {newer}")


# -- bad register files ---------------------------------------------------------


def _bad_legislators(folder: Path) -> Path:
    """The excerpt with its third member's surname taken out."""
    members = yaml.safe_load(LEGISLATORS.read_text(encoding="utf-8"))
    del members[2]["name"]["last"]
    path = folder / "legislators-current.yaml"
    path.write_text(yaml.safe_dump(members, allow_unicode=True), encoding="utf-8")
    return path


def _bad_mapping(folder: Path) -> Path:
    text = (FIXTURES / "congress-csv.mapping.toml").read_text(encoding="utf-8")
    path = folder / "mapping.toml"
    path.write_text(text.replace('"contact_form"', '"contact_from"'), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        # The committee file given as the legislators file: a wrong format.
        ("format", r"committee-membership-current\.excerpt\.yaml: is not a congress-legislators"),
        ("missing", r"legislators-current\.yaml: entry 3 \(bioguide M001176\): field 'name\.last'"),
        ("column", r"mapping\.toml: \[columns\] web_form = 'contact_from': no record of "
                   r".*legislators-current\.excerpt\.csv has a column 'contact_from'; "
                   r"did you mean 'contact_form'\?"),
    ],
)  # fmt: skip
def test_a_bad_register_file_gives_one_line_and_writes_nothing(
    tmp_path: Path, case: str, expected: str
) -> None:
    if case == "format":
        args = ["congress-legislators", str(COMMITTEES)]
    elif case == "missing":
        args = ["congress-legislators", str(_bad_legislators(tmp_path))]
    else:
        csv = FIXTURES / "legislators-current.excerpt.csv"
        args = ["generic", str(csv), "--map", str(_bad_mapping(tmp_path))]
    result = run_cli("recipients", "import", *args, "--to-list", "out.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert re.search(expected, lines[0]), lines[0]
    assert not (tmp_path / "out.yaml").exists()


def test_a_bad_newer_register_leaves_the_list_as_it_was(tmp_path: Path) -> None:
    _import("congress-legislators", str(LEGISLATORS), "--to-list", "us.yaml", cwd=tmp_path)
    before = (tmp_path / "us.yaml").read_bytes()
    result = run_cli("recipients", "diff", "us.yaml", str(_bad_legislators(tmp_path)),
                     "--source", "congress-legislators", "--apply", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2
    assert "entry 3 (bioguide M001176): field 'name.last' is missing" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert (tmp_path / "us.yaml").read_bytes() == before


# -- generic: nested records, the sandbox ----------------------------------------


def test_a_generic_import_reaches_into_nested_json_records() -> None:
    imported = import_register(
        "generic",
        FIXTURES / "legislators-current.excerpt.json",
        Options(mapping=FIXTURES / "congress-json.mapping.toml", date=DATE),
    )
    cantwell, velazquez = imported.recipients
    assert cantwell.register_id == "bioguide:C000127"
    assert cantwell.addressee_person is not None
    assert cantwell.addressee_person.name == "Maria Cantwell"  # a dotted column
    assert cantwell.address.street_address == "511 Hart Senate Office Building"  # terms[-1]
    assert velazquez.id == "us-velazquez-v000081"  # the slug filter
    assert velazquez.address.postal_code == "20515-3207"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ ''.__class__.__mro__ }}", "unsafe"),
        ("{{ 'x' * 10 ** 9 }}", "too large"),
        ("{{ lastname }}", "'lastname' is undefined"),
    ],
)
def test_mapping_templates_run_in_the_letter_sandbox(
    tmp_path: Path, template: str, expected: str
) -> None:
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        f'[columns]\nregister_id = "bioguide_id"\n[templates]\nnotes = "{template}"\n',
        encoding="utf-8",
    )
    result = run_cli("recipients", "import", "generic",
                     str(FIXTURES / "legislators-current.excerpt.csv"), "--map", str(mapping),
                     cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2, result.stdout
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert "entry 1 (register id B001261): field 'notes'" in line
    assert expected in line, line


def test_diff_reports_a_changed_email_and_apply_keeps_the_old_one(tmp_path: Path) -> None:
    contacts = tmp_path / "contacts"
    shutil.copytree(FIXTURES / "uk-contacts", contacts)
    search = str(FIXTURES / "uk-members-search.json")
    _import("uk-parliament", search, "--contacts", str(contacts), "--to-list", "uk.yaml",
            cwd=tmp_path)  # fmt: skip
    newer = contacts / "4514.json"
    newer.write_text(
        newer.read_text(encoding="utf-8").replace("keir.starmer.mp@", "keir.starmer.office@"),
        encoding="utf-8",
    )
    args = ("recipients", "diff", "uk.yaml", search, "--source", "uk-parliament",
            "--contacts", str(contacts), "--date", "2026-07-01", "--apply")  # fmt: skip
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "email   uk-starmer-4514 (uk-parliament:4514): keir.starmer.mp@parliament.uk -> "
        "keir.starmer.office@parliament.uk (register of 2026-07-01)"
    )
    (member,) = load_file(tmp_path / "uk.yaml")
    assert member.email == "keir.starmer.office@parliament.uk"
    assert member.notes.endswith(
        "2026-07-01 uk-parliament: email, was keir.starmer.mp@parliament.uk."
    )


def test_diff_of_a_filtered_list_compares_the_same_selection(tmp_path: Path) -> None:
    _import("congress-legislators", str(LEGISLATORS), "--committees", str(COMMITTEES),
            "--filter", "tag:ssfr", "--to-list", "ssfr.yaml", cwd=tmp_path)  # fmt: skip
    assert {_bioguide(r.register_id) for r in load_file(tmp_path / "ssfr.yaml")} == SSFR
    newer = _newer_register(tmp_path)  # no member of SSFR moved, left or joined
    args = ("recipients", "diff", "ssfr.yaml", str(newer), "--source", "congress-legislators",
            "--committees", str(COMMITTEES), "--json")  # fmt: skip
    assert yaml.safe_load(run_cli(*args, "--filter", "tag:ssfr", cwd=tmp_path).stdout) == {
        "applied": False,
        "changes": [],
    }
    unfiltered = yaml.safe_load(run_cli(*args, cwd=tmp_path).stdout)["changes"]
    assert {c["kind"] for c in unfiltered} == {"joined"} and len(unfiltered) == 20


def test_a_generic_mapping_finds_the_records_inside_a_document(tmp_path: Path) -> None:
    mapping = tmp_path / "uk.toml"
    mapping.write_text(
        'records = "items"\nconfidence = "high"\n'
        '[columns]\nname = "value.nameFullTitle"\n'
        '[templates]\nregister_id = "uk-parliament:{{ value.id }}"\ncountry = "GB"\n'
        'organisation = "House of Commons"\n',
        encoding="utf-8",
    )
    imported = import_register(
        "generic", FIXTURES / "uk-members-search.json", Options(mapping=mapping, date=DATE)
    )
    (member,) = imported.recipients
    assert (member.id, member.name) == ("uk-parliament-4514", "Rt Hon Sir Keir Starmer MP")
    mapping.write_text('records = "members"\n[columns]\nname = "x"\n', encoding="utf-8")
    with pytest.raises(RegisterError, match=r"has no 'members' holding the records"):
        import_register(
            "generic", FIXTURES / "uk-members-search.json", Options(mapping=mapping, date=DATE)
        )


def test_the_projects_json_file_gives_what_its_yaml_gives() -> None:
    from_json = import_register(
        "congress-legislators", FIXTURES / "legislators-current.excerpt.json", Options(date=DATE)
    )
    from_yaml = import_register("congress-legislators", LEGISLATORS, Options(date=DATE))
    by_id = {e["id"]: e for e in from_yaml.entries}
    assert [e["id"] for e in from_json.entries] == ["us-cantwell-c000127", "us-velazquez-v000081"]
    for entry in from_json.entries:
        expected = by_id[entry["id"]]
        assert {**entry, "source_date": ""} == {**expected, "source_date": ""}


def test_diff_reports_a_changed_name_with_its_salutation(tmp_path: Path) -> None:
    _import("congress-legislators", str(LEGISLATORS), "--to-list", "us.yaml", cwd=tmp_path)
    members = yaml.safe_load(LEGISLATORS.read_text(encoding="utf-8"))
    shaheen = next(m for m in members if m["id"]["bioguide"] == "S001181")
    shaheen["name"].update(last="Shaheen Smith", official_full="Jeanne Shaheen Smith")  # a test
    newer = tmp_path / "legislators-current.yaml"
    newer.write_text(yaml.safe_dump(members, allow_unicode=True), encoding="utf-8")
    args = ("recipients", "diff", "us.yaml", str(newer), "--source", "congress-legislators",
            "--date", "2026-07-01")  # fmt: skip
    result = run_cli(*args, "--apply", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "name    us-shaheen-s001181 (bioguide:S001181): The Honorable Jeanne Shaheen / Dear "
        "Senator Shaheen: -> The Honorable Jeanne Shaheen Smith / Dear Senator Shaheen Smith: "
        "(register of 2026-07-01)",
        "1 change(s) applied to us.yaml",
    ]
    after = {r.id: r for r in load_file(tmp_path / "us.yaml")}
    entry = after["us-shaheen-s001181"]  # the id stays: letters already made keep their name
    assert (entry.name, entry.salutation) == (
        "The Honorable Jeanne Shaheen Smith",
        {"en": "Dear Senator Shaheen Smith:"},
    )
    assert "2026-07-01 congress-legislators: name, was The Honorable Jeanne Shaheen / " in (
        entry.notes
    )


@pytest.mark.parametrize(
    ("source", "register", "responses"),
    [
        ("uk-parliament", "uk-members-search.json", "/api/Members/{id}/Contact"),
        ("ep-meps", "ep-meps-show-current.json", "/api/v2/meps/{id}"),
    ],
)
def test_contacts_that_is_not_a_folder_is_one_line(
    tmp_path: Path, source: str, register: str, responses: str
) -> None:
    given = tmp_path / "contacts.json"  # a single response, where a folder of them belongs
    given.write_text("{}", encoding="utf-8")
    result = run_cli(
        *("recipients", "import", source, str(FIXTURES / register)),
        *("--contacts", str(given), "--to-list", "out.yaml", "--date", DATE),
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert f"{given}: is not a folder" in line and responses in line
    assert not (tmp_path / "out.yaml").exists()
