"""The tests' "not shown on the page" checks read what a buyer reads, so a word that happens to
sit in a random token does not count as shown (a CSRF token once held "VAT")."""

from storefront.tests.page_text import page_text


def test_a_word_in_a_token_an_attribute_or_a_script_is_not_on_the_page():
    html = """<!doctype html><html><head><style>.VAT{}</style></head><body>
      <form><input type="hidden" name="csrfmiddlewaretoken" value="8V0xIpxU88VATk3YokwiQPWSU">
      <button data-tax="VAT">Buy</button></form><script>const tax = "VAT";</script>
      </body></html>"""
    assert "VAT" not in page_text(html)
    assert page_text(html) == "Buy"


def test_the_text_a_buyer_reads_is_on_the_page_with_its_entities_read():
    html = "<p>Total <b>€24.00</b>\n  incl. VAT&nbsp;19%</p><p>Tom &amp; Jerry</p>"
    assert "incl. VAT 19%" in page_text(html)  # a no-break space read as a space
    assert "Total €24.00 incl." in page_text(html)
    assert "Tom & Jerry" in page_text(html)
