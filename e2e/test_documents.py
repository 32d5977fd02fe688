"""The documents page in a real browser: upload with progress, the status
followed until Luma has read the file, a refused upload, delete."""

import re

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


def upload(page: Page, path) -> None:
    page.get_by_label("File").set_input_files(str(path))
    page.locator("#upload-form").get_by_role("button", name="Upload").click()


def test_an_upload_is_followed_until_done_and_a_second_copy_is_the_same_row(
    page: Page, tmp_path
) -> None:
    lore = tmp_path / "lore.txt"
    lore.write_text("Luma's home planet is called Aurelia.\nIt has two moons.\n")
    page.add_init_script(RECORD_FORM_FIELDS)
    page.goto("/documents/")
    page.get_by_label("Importance of its memories").select_option("7")
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
    expect(page.locator("#upload-progress")).to_be_hidden()
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
