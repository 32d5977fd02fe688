"""The documents page in a real browser: uploads with progress (chosen or dropped,
several at once), the status followed until Luma has read each file, a refused
upload, delete; a document's own page (chunks, what was left out, deleting a chunk,
reading it again); the list on a phone."""

import re
from pathlib import Path

import docx
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from playwright.sync_api import Page, expect

# Chromium does not show Playwright a multipart body with a file in it: record
# the field names each FormData gets instead.
RECORD_FORM_FIELDS = """
window.formFields = [];
const append = FormData.prototype.append;
FormData.prototype.append = function (name, ...rest) {
  window.formFields.push(name);
  return append.call(this, name, ...rest);
};
"""


def upload(page: Page, *paths) -> None:
    page.get_by_label("Files", exact=True).set_input_files([str(path) for path in paths])
    page.locator("#upload-form").get_by_role("button", name="Upload").click()


def upload_line(page: Page, name: str):
    return page.locator("#upload-list .upload-item", has_text=name)


# A drop as the browser makes it: a DataTransfer holding files, dispatched on the page.
MAKE_DATA_TRANSFER = """(files) => {
  const transfer = new DataTransfer();
  for (const [name, text] of files) {
    transfer.items.add(new File([text], name, { type: "text/plain" }));
  }
  return transfer;
}"""
LIT = re.compile(r"\bdropping\b")


def drop_files(page: Page, selector: str, files: dict[str, str], *, lit: str) -> None:
    """Drag `files` over the page and drop them on `selector`; `lit` is lit meanwhile."""
    transfer = page.evaluate_handle(MAKE_DATA_TRANSFER, list(files.items()))
    expect(page.locator(lit)).not_to_have_class(LIT)
    page.dispatch_event(selector, "dragenter", {"dataTransfer": transfer})
    page.dispatch_event(selector, "dragover", {"dataTransfer": transfer})
    expect(page.locator(lit)).to_have_class(LIT)
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})
    expect(page.locator(lit)).not_to_have_class(LIT)


def handbook_docx(path: Path) -> Path:
    """Two sections (two chunks, each under its heading) and a text box Luma does not read."""
    document = docx.Document()
    document.add_heading("Schedule", 1)
    document.add_paragraph("Friday is karaoke night on the handbook stream.")
    document.add_heading("Lore", 1)
    document.add_paragraph("Luma's handbook says her ship is called Meridian.")
    box = parse_xml(
        f"<w:r {nsdecls('w')} xmlns:v='urn:schemas-microsoft-com:vml'><w:pict><v:shape>"
        "<v:textbox><w:txbxContent><w:p><w:r><w:t>Sponsor code ACME10</w:t></w:r></w:p>"
        "</w:txbxContent></v:textbox></v:shape></w:pict></w:r>"
    )
    document.add_paragraph()._p.append(box)
    document.save(path)
    return path


def test_an_upload_is_followed_until_done_and_a_second_copy_is_the_same_row(
    page: Page, tmp_path
) -> None:
    lore = tmp_path / "lore.txt"
    lore.write_text("Luma's home planet is called Aurelia.\nIt has two moons.\n")
    page.add_init_script(RECORD_FORM_FIELDS)
    page.goto("/documents/")
    page.get_by_label("Importance of their memories").select_option("7")
    with page.expect_response(
        lambda r: r.url.endswith("/api/documents") and r.request.method == "POST"
    ) as sent:
        upload(page, lore)
    assert page.evaluate("window.formFields") == ["file", "importance"]
    assert sent.value.json()["importance"] == 7
    message = page.locator("#upload-message")
    expect(message).to_have_text("Uploaded lore.txt: Luma is reading it.")
    row = page.locator("#documents-body tr", has_text="lore.txt")
    expect(row.locator("td.status")).to_have_text("Done", timeout=15_000)
    expect(row.locator("td.chunks")).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(upload_line(page, "lore.txt").locator(".upload-state")).to_have_text(
        re.compile(r"^Done · [1-9]\d* chunks?$")
    )
    expect(upload_line(page, "lore.txt").locator("progress")).to_have_js_property("value", 100)
    expect(page.get_by_role("button", name="Upload")).to_be_enabled()

    upload(page, lore)
    expect(message).to_have_text("lore.txt was uploaded before: here it is.")
    expect(page.locator("#documents-body tr", has_text="lore.txt")).to_have_count(1)

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    expect(message).to_have_text("Deleted lore.txt.")


def test_a_refused_upload_on_the_documents_page_shows_the_servers_reason(
    page: Page, tmp_path
) -> None:
    binary = tmp_path / "tool.exe"
    binary.write_bytes(b"MZ\x90\x00" + bytes(range(256)) * 4)
    page.goto("/documents/")
    upload(page, binary)
    message = page.locator("#upload-message.error")
    expect(message).to_be_visible()
    expect(message).not_to_have_text(re.compile(r"^Upload failed \(\d+\)\.$"))
    expect(page.locator("#documents-body tr", has_text="tool.exe")).to_have_count(0)


def test_several_chosen_files_each_get_a_progress_line_and_reach_done(page: Page, tmp_path) -> None:
    first, second = tmp_path / "merch.txt", tmp_path / "raids.txt"
    first.write_text("The merch store opens on the first of the month.\n")
    second.write_text("Raids are welcome after the Sunday stream.\n")
    page.goto("/documents/")
    upload(page, first, second)
    expect(page.locator("#upload-list .upload-item")).to_have_count(2)
    for name in ("merch.txt", "raids.txt"):
        expect(upload_line(page, name).locator(".upload-state")).to_have_text(
            "Done · 1 chunk", timeout=15_000
        )
        expect(page.locator("#documents-body tr", has_text=name).locator("td.status")).to_have_text(
            "Done"
        )
    expect(page.get_by_label("Files", exact=True)).to_have_js_property("value", "")


def test_two_files_dropped_on_the_page_are_uploaded_each_with_its_own_progress(
    page: Page,
) -> None:
    page.goto("/documents/")
    drop_files(page, "#drop-zone", {
        "dropped-one.txt": "Luma's favourite snack is melon bread.",
        "dropped-two.txt": "Luma's stream mascot is a fox called Ember.",
    }, lit="#drop-zone")  # fmt: skip
    lines = page.locator("#upload-list .upload-item")
    expect(lines).to_have_count(2)
    for name in ("dropped-one.txt", "dropped-two.txt"):
        line = upload_line(page, name)
        expect(line.locator("progress")).to_be_visible()
        expect(line.locator(".upload-state")).to_have_text("Done · 1 chunk", timeout=15_000)
        expect(line.locator("progress")).to_have_js_property("value", 100)
        expect(page.locator("#documents-body tr", has_text=name)).to_have_count(1)


def test_a_documents_page_shows_its_chunks_and_notes_and_a_chunk_can_be_deleted(
    page: Page, tmp_path
) -> None:
    page.goto("/documents/")
    upload(page, handbook_docx(tmp_path / "handbook.docx"))
    expect(upload_line(page, "handbook.docx").locator(".upload-state")).to_have_text(
        "Done · 2 chunks", timeout=15_000
    )
    page.locator("#documents-body").get_by_role("link", name="handbook.docx").click()
    expect(page.get_by_role("heading", name="handbook.docx", level=1)).to_be_visible()
    expect(page.locator("#document-status")).to_have_text("Done")
    expect(page.locator("#notes li")).to_have_text(["1 text box not read"])
    rows = page.locator("#chunks-body tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator(".place")).to_contain_text("Schedule")
    expect(rows.nth(0).locator(".text")).to_have_text(
        "Friday is karaoke night on the handbook stream."
    )
    expect(rows.nth(1).locator(".text")).to_have_text(
        "Luma's handbook says her ship is called Meridian."
    )
    expect(rows.nth(0).locator(".uses")).to_have_text("0 times")
    expect(rows.nth(0).locator(".last-used")).to_have_text("never")

    page.once("dialog", lambda dialog: dialog.accept())
    rows.nth(0).get_by_role("button", name="Delete").click()
    expect(rows).to_have_count(1)
    expect(page.locator("#chunk-count")).to_have_text("1")
    expect(page.locator("#document-message")).to_contain_text("Deleted the chunk")
    page.reload()
    expect(rows).to_have_count(1)
    expect(rows.nth(0).locator(".text")).to_contain_text("Meridian")
    expect(page.locator("#chunk-count")).to_have_text("1")

    dialogs: list[str] = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Read again").click()
    expect(rows).to_have_count(2, timeout=15_000)  # read anew: both chunks are back
    assert "Read handbook.docx again?" in dialogs[0]
    expect(page.locator("#chunk-count")).to_have_text("2")


def test_the_documents_list_fits_a_phone_and_its_file_input_shows_whole(
    page: Page, tmp_path
) -> None:
    long_name = tmp_path / ("a-very-long-document-name-for-the-phone-layout-" * 3 + ".txt")
    long_name.write_text("The phone layout keeps every column readable.\n")
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto("/documents/")
    upload(page, long_name)
    expect(
        page.locator("#documents-body tr", has_text="a-very-long").locator("td.status")
    ).to_have_text("Done", timeout=15_000)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
    file_input = page.get_by_label("Files", exact=True)
    expect(file_input).to_be_visible()
    box = file_input.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
